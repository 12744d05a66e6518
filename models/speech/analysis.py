"""Speech -> per-video-frame mouth openness and viseme class, language-independent.

No phone recogniser: what the mouth does is read from the sound's acoustics, which
works for any language (measured against espeak-ng phoneme timings in English,
Spanish, Mandarin and Japanese: ``tests/unit/test_speech_analysis.py``,
``benchmarks/bench_speech.py``).

Per video frame ``k`` a Hann window of ``WINDOW_S`` centred on the frame's middle,
``(k + 0.5) / fps``, gives a power spectrum, from which (all in Hz, so any sample
rate from 8 kHz to 96 kHz reads the same):

* loudness (dB) of the 80 Hz - 5 kHz speech band;
* voicing: the normalised autocorrelation peak in the 60-400 Hz pitch range;
* an F1 proxy (power centroid of 200-1100 Hz: high for open vowels like /a/,
  low for /i/ /u/ and nasal murmurs) and an F2 proxy (share of 1.6-3.2 kHz against
  200-1.2 kHz: high for spread /i e/, low for rounded /o u/);
* hiss: the share of power above 3 kHz (fricatives s, f, sh).

The waveform is read a block of frames at a time (``BLOCK_FRAMES``), so the work
memory does not grow with the length; only the small per-frame feature arrays do.
A second pass over those normalises loudness to the clip's own level (the 95th
percentile of its voiced frames), so quiet and loud recordings read the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import DreamActorError
from .visemes import CLOSED, CONSONANT, FV, OPEN, ROUNDED, SILENCE, SPREAD

WINDOW_S = 0.032
BLOCK_FRAMES = 256
SILENCE_DB = 32.0
"""Frames this far below the clip's speech level (or under -65 dBFS) are silence."""
LOUD_DB = (-11.0, 3.0)
"""Loudness (dB under the speech level) at which a voiced frame is half open, and the
sigmoid's width: vowels sit within ~8 dB of the level, nasals and liquids 10-15 dB under."""
JAW_F1_HZ = (350.0, 750.0)
"""F1 proxy from a closed-ish jaw (/i u m n/) to a wide-open /a/."""
SPREAD_GAIN = 0.8
"""How much a high F2 share (spread /i e/) counts as open: /i/ has a low F1 like a nasal,
but unlike a nasal a strong second formant."""
OPEN_AT = 0.3
"""Openness from which a frame counts as open (a vowel is sounding)."""


@dataclass
class SpeechFrames:
    """Speech read per video frame.

    openness: (T,) float32 in [0, 1], how open the mouth is (0 closed, 1 wide open).
    viseme: (T,) int64 class (``models.speech.visemes``).
    features: (T, 5) float32: loudness dB relative to the speech level, voicing,
        F1 proxy (Hz), F2 share, hiss share (kept for inspection and plots).
    fps: frames per second; frame k shows the speech at k / fps.
    clipped: share of samples at full scale (> 1 % is flagged by the node).
    """

    openness: np.ndarray
    viseme: np.ndarray
    features: np.ndarray
    fps: float
    clipped: float

    @property
    def num_frames(self) -> int:
        return int(self.openness.shape[0])


def check_audio(waveform: np.ndarray, sample_rate: int) -> None:
    """Refuse what cannot be speech: waveform (C, S) with at least a frame's samples."""
    if waveform.ndim != 2 or waveform.shape[1] == 0:
        raise DreamActorError(
            f"the audio has shape {tuple(waveform.shape)}, with no samples",
            fix="connect an AUDIO holding speech (Load Video's audio output or a Load Audio node)",
            input="audio",
        )
    if not 4000 <= int(sample_rate) <= 384000:
        raise DreamActorError(
            f"sample rate {sample_rate} Hz is not an audio rate",
            fix="connect audio sampled at 8 kHz to 96 kHz",
            input="audio",
        )


def frame_count(num_samples: int, sample_rate: int, fps: float) -> int:
    """Video frames that cover ``num_samples``: the last frame starts before the sound ends,
    unless less than 1 % of a frame's time is left (a sound cut at a frame boundary and
    rounded to whole samples, as Load Video's audio is, gives exactly its frames)."""
    return max(1, int(np.ceil(num_samples * fps / sample_rate - 0.01)))


def _window_features(seg: np.ndarray, sr: int) -> np.ndarray:
    """seg (n, W) windows of mono samples -> (n, 5) raw features (dB, voicing, F1, F2 share, hiss)."""
    W = seg.shape[1]
    nfft = 1 << int(np.ceil(np.log2(2 * W)))
    win = np.hanning(W)
    x = seg * win
    spec = np.abs(np.fft.rfft(x, nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)

    def band(lo, hi):
        m = (freqs >= lo) & (freqs < min(hi, sr / 2))
        return spec[:, m].sum(1) + 1e-12, m

    speech, _ = band(80, 5000)
    db = 10 * np.log10(speech / (W * 0.375) + 1e-12)  # Hann power gain: a full-scale sine reads ~0 dB
    low, m_low = band(200, 1100)
    f1 = (spec[:, m_low] * freqs[m_low]).sum(1) / low
    lo2, _ = band(200, 1200)
    hi2, _ = band(1600, 3200)
    f2 = hi2 / (hi2 + lo2)
    hiss_band, _ = band(3000, 8000)
    hiss = hiss_band / (hiss_band + speech)
    # voicing: normalised autocorrelation peak at pitch lags (60-400 Hz)
    # (divided by the window's own autocorrelation, which would otherwise damp long pitch lags)
    ac = np.fft.irfft(spec, nfft)[:, :W]
    acw = np.fft.irfft(np.abs(np.fft.rfft(win, nfft)) ** 2, nfft)[:W]
    lag0, lag1 = int(sr / 400), min(int(sr / 60), W // 2)
    voicing = (ac[:, lag0:lag1] / acw[lag0:lag1]).max(1) / (ac[:, 0] / acw[0] + 1e-12)
    return np.stack([db, voicing, f1, f2, hiss], 1)


def speech_features(waveform: np.ndarray, sample_rate: int, fps: float, num_frames: int | None = None) -> np.ndarray:
    """waveform (C, S) float -> raw features (T, 5), read BLOCK_FRAMES frames at a time.

    T defaults to the frames covering the sound (``frame_count``); frames past the
    sound's end read silence."""
    check_audio(waveform, sample_rate)
    sr, S = int(sample_rate), waveform.shape[1]
    T = frame_count(S, sr, fps) if num_frames is None else int(num_frames)
    W = max(16, int(round(WINDOW_S * sr)))
    out = np.empty((T, 5), np.float32)
    for k0 in range(0, T, BLOCK_FRAMES):
        k1 = min(T, k0 + BLOCK_FRAMES)
        starts = np.round((np.arange(k0, k1) + 0.5) * sr / fps).astype(np.int64) - W // 2
        a, b = max(0, int(starts[0])), min(S, int(starts[-1]) + W)
        block = np.zeros(max(0, int(starts[-1]) + W - int(starts[0])), np.float32)
        if b > a:  # mono mix of only this stretch
            block[a - int(starts[0]) : b - int(starts[0])] = np.asarray(waveform[:, a:b], np.float32).mean(0)
        idx = (starts - starts[0])[:, None] + np.arange(W)
        out[k0:k1] = _window_features(block[idx], sr)
    return out


def speech_level(feats: np.ndarray) -> float:
    """The clip's speech level (dB): 95th percentile of loud voiced frames (-20 dBFS when none)."""
    db, voicing = feats[:, 0], feats[:, 1]
    loud = db[(voicing > 0.4) & (db > -65)]
    return float(np.percentile(loud, 95)) if loud.size >= 3 else -20.0


def classify(feats: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw features (T, 5) + speech level -> (openness (T,) in [0, 1], viseme (T,) int).

    Openness grows with loudness relative to the speech level and with the F1 proxy
    (a wide-open /a/ is louder and has a higher F1 than /i/ or a nasal); voiceless
    frames (fricatives, bursts) stay nearly closed."""
    db = feats[:, 0] - level
    voicing, f1, f2, hiss = feats[:, 1], feats[:, 2], feats[:, 3], feats[:, 4]
    silent = (db < -SILENCE_DB) | (feats[:, 0] < -65)
    loud = 1.0 / (1.0 + np.exp(-(db - LOUD_DB[0]) / LOUD_DB[1]))
    jaw = np.clip((f1 - JAW_F1_HZ[0]) / (JAW_F1_HZ[1] - JAW_F1_HZ[0]), 0.0, 1.0)
    voiced = np.clip((voicing - 0.3) / 0.3, 0.0, 1.0)
    shape = np.clip(0.45 + 0.55 * jaw + SPREAD_GAIN * f2, 0.0, 1.0)
    openness = loud * voiced * shape
    openness = np.where(silent, 0.0, openness).astype(np.float32)

    vis = np.full(len(db), CONSONANT, np.int64)
    vowel = (openness >= OPEN_AT) & (hiss < 0.5)
    vis[vowel & (f2 >= 0.12)] = SPREAD
    vis[vowel & (f2 < 0.12)] = ROUNDED
    vis[vowel & (jaw >= 0.55)] = OPEN
    murmur = ~vowel & ~silent & (voicing > 0.5) & (f1 < 330) & (hiss < 0.1)
    vis[murmur] = CLOSED
    weak_hiss = ~vowel & ~silent & (hiss >= 0.3) & (db < -12)
    vis[weak_hiss] = FV
    vis[silent] = SILENCE
    return openness, vis


def analyze_speech(waveform: np.ndarray, sample_rate: int, fps: float, num_frames: int | None = None) -> SpeechFrames:
    """waveform (C, S) float in [-1, 1] at ``sample_rate`` -> :class:`SpeechFrames` at ``fps``."""
    if not fps > 0:
        raise DreamActorError(f"fps {fps} must be positive", fix="set fps to the video's frame rate", input="fps")
    feats = speech_features(waveform, sample_rate, fps, num_frames)
    openness, vis = classify(feats, speech_level(feats))
    feats = feats.copy()
    feats[:, 0] -= speech_level(feats)
    return SpeechFrames(openness, vis, feats, float(fps), clipped_share(waveform))


def clipped_share(waveform: np.ndarray, block: int = 1 << 20) -> float:
    """Share of samples at or above 0.999 of full scale (clipping), counted in blocks."""
    n = 0
    for a in range(0, waveform.shape[1], block):
        n += int(np.count_nonzero(np.abs(np.asarray(waveform[:, a : a + block])) >= 0.999))
    return n / float(waveform.size)


CLIPPED_SHARE = 0.01
"""Above this share of full-scale samples a recording is flagged as clipped."""


def speech_notes(speech: SpeechFrames, num_samples: int, sample_rate: int, frames: int, redubbing: bool) -> list[str]:
    """What a user should be told about the speech: silence, clipping and, when re-dubbing a
    clip of ``frames`` frames, audio that runs past it (cut) or ends before it (padded)."""
    notes = []
    if not (speech.openness > 0.05).any():
        notes.append("no speech was found in the audio (silent or noise): the mouth stays closed")
    if speech.clipped > CLIPPED_SHARE:
        notes.append(
            f"{100 * speech.clipped:.1f} % of the samples are clipped: lower the recording's gain if the mouth looks wrong"
        )
    if redubbing:
        need = frame_count(num_samples, sample_rate, speech.fps)
        if need > frames:
            notes.append(
                f"the audio runs {(need - frames) / speech.fps:.2f} s past the clip's {frames} frames: it is cut"
            )
        elif need < frames:
            notes.append(f"the audio ends {(frames - need) / speech.fps:.2f} s before the clip: the mouth closes there")
    return notes
