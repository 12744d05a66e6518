"""models.io.video / models.io.video_writer on the real sample clips (no ComfyUI)."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.io.video import ArrayVideo, FileVideo, decode_audio, probe_file, select_frames
from models.io.video_writer import write_mp4


def test_probe_counts_frames_of_every_sample(media):
    expect = {
        "demo.mp4": (1768, 994, 230),
        "WolfgangLanger_Pexels.mp4": (640, 360, 472),
        "single_face.mp4": (640, 360, 72),
        "face_noface.mov": (960, 540, 169),
    }
    for name, (w, h, n) in expect.items():
        p = probe_file(media(name))
        assert (p.width, p.height, p.num_frames) == (w, h, n), name
        assert p.has_audio


def test_window_after_seek_equals_sequential_decode(media):
    full = FileVideo(media("demo.mp4"))
    late = FileVideo(media("demo.mp4"), start=180, count=10)
    np.testing.assert_array_equal(late.window(0, 10), full.window(180, 190))
    # consecutive windows stream on; going back re-seeks
    a = full.window(100, 105)
    b = full.window(105, 110)
    c = full.window(100, 110)
    np.testing.assert_array_equal(np.concatenate([a, b]), c)


def test_hevc_mov_decodes(media):
    v = FileVideo(media("face_noface.mov"), start=160)
    assert v.num_frames == 9 and v.window(0, 9).shape == (9, 540, 960, 3)


def test_select_frames_resamples_in_time():
    idx, fps = select_frames(72, 30.0, 0, 0, 1, 10.0)
    assert fps == 10.0 and len(idx) == 24 and idx[0] == 0 and idx[-1] == 69
    idx, fps = select_frames(100, 24.0, 10, 5, 3, 0)
    assert list(idx) == [10, 13, 16, 19, 22] and fps == 8.0
    idx, fps = select_frames(10, 10.0, 0, 0, 1, 25.0)  # up-sampling repeats frames
    assert len(idx) == 25 and fps == 25.0 and idx.max() == 9


@pytest.mark.parametrize(
    "args,needle",
    [
        ((10, 30.0, 10, 0, 1, 0), "start_frame"),
        ((10, 30.0, 5, 6, 1, 0), "frame_count"),
        ((10, 30.0, 0, 4, 3, 0), "at most 4"),
    ],
)
def test_select_frames_errors_name_the_input(args, needle):
    with pytest.raises(DreamActorError) as e:
        select_frames(*args)
    assert needle in str(e.value) and "Fix:" in str(e.value)


def test_audio_is_cut_to_the_range(media):
    v = FileVideo(media("single_face.mp4"), start=12, count=48)  # the clip whose audio covers the video
    a = v.audio()
    assert a.sample_rate == 44100 and a.waveform.shape[0] == 2
    assert abs(a.duration - (v.info.seconds(60) - v.info.seconds(12))) < 0.01
    whole = decode_audio(media("single_face.mp4"), 0.0, 1e9)
    begin = int(round(v.info.seconds(12) * 44100))
    np.testing.assert_array_equal(a.waveform[:, :1000], whole.waveform[:, begin : begin + 1000])
    assert np.abs(a.waveform).max() > 0.005  # real sound, not silence


def test_file_video_is_picklable_and_lazy(media):
    import pickle

    v = FileVideo(media("demo.mp4"), count=20)
    v.window(0, 2)
    w = pickle.loads(pickle.dumps(v))
    np.testing.assert_array_equal(w.frame(5), v.frame(5))


def test_write_mp4_streams_frames_and_audio(tmp_path, media):
    src = FileVideo(media("single_face.mp4"), count=30)
    out = str(tmp_path / "out.mp4")
    seen = []
    n = write_mp4(out, src.iter_frames(), src.fps, src.audio(), on_frame=seen.append)
    assert n == 30 and seen[-1] == 30 and not os.path.exists(out + ".part")
    back = FileVideo(out)
    assert back.num_frames == 30 and abs(back.fps - 30.0) < 1e-6
    assert np.abs(back.frame(15).astype(int) - src.frame(15).astype(int)).mean() < 5
    assert abs(back.audio().duration - 1.0) < 0.05


def test_write_mp4_rejects_a_size_change_and_leaves_no_file(tmp_path):
    frames = [np.zeros((32, 32, 3), np.uint8), np.zeros((32, 48, 3), np.uint8)]
    out = str(tmp_path / "bad.mp4")
    with pytest.raises(ValueError):
        write_mp4(out, iter(frames), 24.0)
    assert not os.path.exists(out) and not os.path.exists(out + ".part")


def test_array_video_float_and_uint8():
    f = np.linspace(0, 1, 4 * 8 * 6 * 3, dtype=np.float32).reshape(4, 8, 6, 3)
    v = ArrayVideo(f, 12.0)
    assert v.window(0, 4).dtype == np.uint8 and v.window(0, 4).shape == (4, 8, 6, 3)
    assert v.frame(3)[-1, -1, -1] == 255
    with pytest.raises(DreamActorError):
        ArrayVideo(np.zeros((8, 6, 3)), 12.0)


@pytest.mark.parametrize(
    "maker,needle",
    [
        (lambda p: None, "does not exist"),
        (lambda p: open(p, "wb").write(b"garbage" * 50), "cannot be read"),
    ],
)
def test_probe_errors(tmp_path, maker, needle):
    p = str(tmp_path / "x.mp4")
    maker(p)
    with pytest.raises(DreamActorError) as e:
        probe_file(p)
    assert needle in str(e.value) and "Fix:" in str(e.value)


def test_no_face_clip_probe_counts_real_frames(media):
    # the container claims 95 frames in HOST-NOTES; demuxing counts the real ones
    p = probe_file(media("no_face.mp4"))
    with av.open(media("no_face.mp4")) as c:
        decoded = sum(1 for _ in c.decode(video=0))
    assert p.num_frames == decoded


def test_audio_that_starts_late_stays_in_sync(media):
    """face_noface.mov's audio track begins 2.43 s into the file: the cut keeps the file's
    timeline (silence before the track), and a seeked cut equals the same stretch of a
    whole decode sample for sample."""
    path = media("face_noface.mov")
    whole = decode_audio(path, 0.0, 1e9)
    rate = whole.sample_rate
    assert abs(whole.duration - probe_file(path).seconds(169)) < 0.01  # as long as the video
    lead = int(2.43 * rate)
    assert np.abs(whole.waveform[:, : lead - rate // 100]).max() == 0.0
    assert np.abs(whole.waveform[:, lead + rate // 10 : lead + rate]).max() > 0.05
    cut = decode_audio(path, 3.0, 4.5)
    begin = 3 * rate
    np.testing.assert_array_equal(cut.waveform, whole.waveform[:, begin : begin + cut.waveform.shape[1]])
    assert abs(cut.duration - 1.5) < 1e-3
