"""Streaming H.264 mp4 writer: frames go to the encoder one at a time, never all in RAM."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterable

import numpy as np

from .video import Audio


def _fps_fraction(fps: float) -> Fraction:
    """A frame rate as an exact fraction (29.97 -> 30000/1001) for the container."""
    for den in (1, 1001):
        num = round(fps * den)
        if abs(num / den - fps) < 1e-3:
            return Fraction(num, den)
    return Fraction(fps).limit_denominator(100000)


def _even(n: int) -> int:
    return n + (n % 2)


def write_mp4(
    path: str, frames: Iterable[np.ndarray], fps: float, audio: Audio | None = None, crf: int = 19, on_frame=None
) -> int:
    """Encode ``frames`` ((H, W, 3) uint8, all the same size) to an H.264 / yuv420p mp4.

    Odd sizes are padded by one edge pixel (yuv420p needs even sizes). ``audio`` is
    muxed as AAC, trimmed to the video's length. ``on_frame(i)`` is called after
    each frame (progress, interruption). Written to ``path + '.part'`` and renamed at
    the end, so an interrupted save leaves no broken mp4. Returns the frame count.
    """
    import av

    tmp = path + ".part"
    rate = _fps_fraction(fps)
    n = 0
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            vstream = None
            astream = None
            size = None
            for frame in frames:
                if vstream is None:
                    h, w = frame.shape[:2]
                    size = (h, w)
                    vstream = container.add_stream("libx264", rate=rate)
                    vstream.width, vstream.height = _even(w), _even(h)
                    vstream.pix_fmt = "yuv420p"
                    vstream.options = {"crf": str(crf), "preset": "medium"}
                    if audio is not None and audio.waveform.size:
                        astream = container.add_stream("aac", rate=int(audio.sample_rate))
                        astream.layout = "stereo" if audio.waveform.shape[0] >= 2 else "mono"
                if frame.shape[:2] != size:
                    raise ValueError(
                        f"frame {n} is {frame.shape[1]}x{frame.shape[0]}, the video is {size[1]}x{size[0]}"
                    )
                if frame.shape[0] % 2 or frame.shape[1] % 2:
                    frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                for packet in vstream.encode(vf):
                    container.mux(packet)
                n += 1
                if on_frame is not None:
                    on_frame(n)
            if vstream is None:
                raise ValueError("no frames to write")
            for packet in vstream.encode():
                container.mux(packet)
            if astream is not None:
                _mux_audio(container, astream, audio, n / float(rate))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return n


def _mux_audio(container, stream, audio: Audio, duration: float) -> None:
    import av

    wave = audio.waveform[:, : int(round(duration * audio.sample_rate))].astype(np.float32)
    wave = wave[:2] if wave.shape[0] >= 2 else wave[:1]
    layout = "stereo" if wave.shape[0] == 2 else "mono"
    frame_size = stream.codec_context.frame_size or 1024
    pts = 0
    for s in range(0, wave.shape[1], frame_size):
        chunk = np.ascontiguousarray(wave[:, s : s + frame_size])
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        af.sample_rate = audio.sample_rate
        af.pts = pts
        pts += chunk.shape[1]
        for packet in stream.encode(af):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
