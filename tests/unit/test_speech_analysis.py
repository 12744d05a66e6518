"""Speech -> per-frame mouth openness and visemes, scored against espeak-ng phoneme timings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from models.core.errors import DreamActorError
from models.speech import analysis
from models.speech.analysis import analyze_speech, float_samples, frame_count, speech_notes
from models.speech.plot import speech_plot
from models.speech.visemes import CLOSED, SILENCE
from scripts.harness import recorded_speech
from scripts.harness.espeak_truth import SAMPLES, TEXTS, align_to_sound, frame_truth, score, speak


@pytest.fixture(scope="module")
def spoken():
    return {lang: speak(text, voice) for lang, (voice, text) in SAMPLES.items()}


@pytest.mark.parametrize("lang", list(TEXTS))
def test_open_closed_and_lag_per_language(spoken, lang):
    """The issue's goal: open/closed agreement >= 85 % per language, lag <= 1 frame, on four
    texts at 24/25/30 fps. Measured (``benchmarks/bench_speech.py``, one run): mean per language
    English 0.885, Spanish 0.886, Mandarin 0.929, Japanese 0.914, lowest single clip 0.840 (runs
    differ by ~0.003: espeak-ng's output varies slightly); the reader before the nasal-murmur gate
    (f2eefae) read 0.892 / 0.879 / 0.921 / 0.931, with the gate alone (a1b89c1) 0.882 / 0.868 /
    0.895 / 0.864: the gate closed espeak-ng's murmur-like /i/ and /u/, which the formant-ridge
    test (dad471a: 0.878 / 0.878 / 0.912 / 0.932) opens again; the dip test (closures between two
    sounds) costs espeak-ng's Japanese 0.018."""
    voice, texts = TEXTS[lang]
    agree = []
    for i, text in enumerate(texts):
        wave, sr, events = spoken[lang] if i == 0 else speak(text, voice)
        for fps in (24.0, 25.0, 30.0):
            got = analyze_speech(wave[None], sr, fps)
            s = score(frame_truth(events, got.num_frames, fps), got.openness, got.viseme)
            agree.append(s["open_closed"])
            assert s["open_closed"] >= 0.78, (lang, i, fps, s)
            assert abs(s["lag"]) <= 1, (lang, i, fps, s)
            if i == 0:
                assert s["viseme"] >= 0.4, (lang, fps, s)  # 7 classes: chance is far lower
    assert np.mean(agree) >= 0.85, (lang, agree)


def test_truth_moves_stop_markers_back_over_their_closure():
    """espeak-ng marks a stop at its release, after the closure's silence: the truth moves the
    stop's start back to where the silence starts (and keeps every other stop marker)."""
    voice, text = SAMPLES["Spanish"]
    wave, sr, raw = speak(text, voice, aligned=False)
    aligned = align_to_sound(raw, wave, sr)
    assert [p for _, p in aligned] == [p for _, p in raw]
    moved = [(a, r) for (r, p), (a, _) in zip(raw, aligned) if p[:1] in "ptk" and a != r]
    assert sum(r - a >= 30 for a, r in moved) >= 4, moved  # ~40 ms at 160 words/min
    for a, r in moved:
        assert 0 < r - a <= 70, (a, r)
        closure = wave[int((a + 5) * sr / 1000) : int((r - 5) * sr / 1000)]  # its silence, ends trimmed
        assert np.abs(closure).max() < 0.01, (a, r)


def test_any_rate_and_channels_read_the_same(spoken):
    wave, sr, _ = spoken["English"]
    ref = analyze_speech(wave[None], sr, 25.0)
    for rate in (8000, 96000):
        w = resample_poly(wave, rate, sr).astype(np.float32)
        stereo = np.stack([w, 0.5 * w])
        got = analyze_speech(stereo, rate, 25.0)
        assert got.num_frames == ref.num_frames
        assert np.mean((got.openness >= 0.3) == (ref.openness >= 0.3)) >= 0.93, rate
        assert np.corrcoef(got.openness, ref.openness)[0, 1] >= 0.9, rate


def test_blocks_do_not_change_the_result(spoken, monkeypatch):
    wave, sr, _ = spoken["Spanish"]
    whole = analyze_speech(wave[None], sr, 24.0)
    monkeypatch.setattr(analysis, "BLOCK_FRAMES", 7)
    blocked = analyze_speech(wave[None], sr, 24.0)
    np.testing.assert_allclose(blocked.features, whole.features, atol=1e-4)
    np.testing.assert_array_equal(blocked.viseme, whole.viseme)


def test_frames_cover_the_sound_exactly():
    assert frame_count(48000, 48000, 25.0) == 25
    assert frame_count(48100, 48000, 25.0) == 26  # 5 % of a frame of sound left: one more frame
    assert frame_count(48001, 48000, 25.0) == 25  # one sample over (rounding): none
    assert frame_count(round(9 / (24000 / 1001) * 44100), 44100, 24000 / 1001) == 9
    assert frame_count(1, 8000, 30.0) == 1


def test_silence_loudness_and_clipping(spoken):
    quiet = analyze_speech(np.zeros((1, 16000), np.float32), 16000, 25.0)
    assert (quiet.viseme == SILENCE).all() and (quiet.openness == 0).all()
    wave, sr, _ = spoken["Japanese"]
    ref = analyze_speech(wave[None], sr, 25.0)
    soft = analyze_speech(0.05 * wave[None], sr, 25.0)  # 26 dB quieter: read against its own level
    np.testing.assert_allclose(soft.openness, ref.openness, atol=0.02)
    assert ref.clipped == 0.0
    hot = np.clip(8.0 * wave[None], -1, 1)
    assert analyze_speech(hot, sr, 25.0).clipped > 0.01


def test_bad_audio_is_refused():
    with pytest.raises(DreamActorError, match="no samples"):
        analyze_speech(np.zeros((1, 0), np.float32), 16000, 25.0)
    with pytest.raises(DreamActorError, match="sample rate"):
        analyze_speech(np.zeros((1, 100), np.float32), 100, 25.0)


def test_notes_flag_silence_clipping_and_lengths(spoken):
    wave, sr, _ = spoken["English"]
    T = frame_count(len(wave), sr, 25.0)
    clean = analyze_speech(wave[None], sr, 25.0)
    assert speech_notes(clean, len(wave), sr, T, redubbing=True) == []
    hot = np.clip(8.0 * wave[None], -1, 1)
    assert any("clipped" in n for n in speech_notes(analyze_speech(hot, sr, 25.0), len(wave), sr, T, False))
    quiet = analyze_speech(np.zeros((1, sr), np.float32), sr, 25.0)
    assert any("no speech" in n for n in speech_notes(quiet, sr, sr, 25, False))
    short_clip = speech_notes(analyze_speech(wave[None], sr, 25.0, 50), len(wave), sr, 50, True)
    assert any("past the clip's 50 frames: it is cut" in n for n in short_clip), short_clip
    long_clip = speech_notes(analyze_speech(wave[None], sr, 25.0, T + 50), len(wave), sr, T + 50, True)
    assert any("ends 2.00 s before the clip" in n for n in long_clip), long_clip


@pytest.fixture(scope="module")
def recorded():
    return recorded_speech.clips()


RECORDED_FLOORS = {"English": (0.80, 0.78), "Japanese": (0.86, 0.7)}
"""Per language on the recorded clips, all frames pooled at 25 fps: (open/closed agreement,
share of p/b/m frames read closed). Measured on nine English clips (90 s) 0.817 / 0.83 (102
frames), leave-one-clip-out 0.815 / 0.84; on five Japanese clips (13 s, three speakers) 0.881 /
0.82 (9 of 11 frames), leave-one-clip-out 0.861 / 0.64. The readers before read English 0.736 /
0.64 (f2eefae), 0.710 / 0.69 (a1b89c1, murmur gate) and 0.775 / 0.81 (dad471a, formant ridge);
Japanese 0.798 / 0.27, 0.846 / 0.73 and 0.858 / 0.55 (``benchmarks/bench_speech.py`` prints all
four). With 11 Japanese p/b/m frames one frame is 9 %."""


@pytest.mark.parametrize("lang", list(RECORDED_FLOORS))
def test_recorded_speech_per_language(recorded, lang):
    """Recorded human speech with phone alignments (registry packages, ``recorded_speech``): open
    where a vowel sounds, lips closed on p/b/m (nasal murmurs included), in step with the sound."""
    truth, openness = [], []
    for clip in (c for c in recorded if c.language == lang):
        got = analyze_speech(clip.wave[None], clip.sample_rate, 25.0)
        t = recorded_speech.frame_classes(clip.events(), got.num_frames, 25.0)
        assert abs(score(t, got.openness, got.viseme)["lag"]) <= 1, clip.name
        truth.append(t)
        openness.append(got.openness)
    truth, openness = np.concatenate(truth), np.concatenate(openness)
    s = score(truth, openness, np.zeros_like(truth))
    closed = float(np.mean(openness[truth == CLOSED] < 0.3))
    agree_floor, closed_floor = RECORDED_FLOORS[lang]
    assert s["open_closed"] >= agree_floor and closed >= closed_floor, (lang, s, closed)
    assert s["lag"] == 0, (lang, s)


def test_recorded_speech_yardsticks(recorded):
    """The bench's yardsticks beside the reader: how much truth rests on a phone edge (none with
    no shift; a fifth of English frames at 20 ms, measured 0.217) and PocketSphinx's English phone
    recogniser read like a clip reader (CMU ARCTIC a0009: measured 0.897)."""
    from benchmarks.bench_speech import alignment_spread, sphinx_reader

    english = [c for c in recorded if c.language == "English"]
    assert alignment_spread(english, 0.0) == 0.0
    assert 0.15 < alignment_spread(english, 20.0) < 0.3
    clip = next(c for c in english if c.name == "arctic_a0009")
    got = sphinx_reader()(clip.wave[None], clip.sample_rate, 25.0)
    truth = recorded_speech.frame_classes(clip.events(), got.num_frames, 25.0)
    assert score(truth, got.openness, got.viseme)["open_closed"] > 0.85


@pytest.mark.parametrize(
    "wave, rate, message",
    [
        (
            np.array([[0.1, np.nan, 0.2] * 400], np.float32),
            16000,
            "400 of the audio's 1200 samples are NaN or infinite",
        ),
        (np.array([[0.1, np.inf, -np.inf] * 400]), 16000, "800 of the audio's 1200 samples are NaN or infinite"),
        (np.zeros((1, 0), np.float32), 16000, "no samples"),
        (np.zeros((0, 1600), np.float32), 16000, "no samples"),
        (np.zeros(1600, np.float32), 16000, "no samples"),
        (np.zeros((1, 1600), np.complex64), 16000, "not numbers"),
        (np.zeros((1, 1600), bool), 16000, "not numbers"),
        (np.zeros((1, 1600), np.float32), 100, "sample rate 100 Hz"),
        (np.zeros((1, 1600), np.float32), float("nan"), "sample rate nan Hz"),
        (np.zeros((1, 1600), np.float32), None, "sample rate None Hz"),
        (np.zeros((1, 1600), np.float32), 1e12, "sample rate 1000000000000.0 Hz"),
        (np.zeros((1, 1600), np.float32), 44100.5, "sample rate 44100.5 Hz"),
    ],
)
def test_hostile_audio_is_refused_by_name(wave, rate, message):
    with pytest.raises(DreamActorError, match=message) as err:
        analyze_speech(wave, rate, 25.0)
    assert err.value.input == "audio" and "Fix:" in str(err.value)


def test_integer_pcm_reads_like_float(spoken):
    """int16 and 8-bit unsigned PCM are scaled by their full scale, so they read as the float
    samples (unscaled, every sample would be 'clipped' and the levels 90 dB off)."""
    wave, sr, _ = spoken["English"]
    ref = analyze_speech(wave[None], sr, 25.0)
    for pcm in ((wave * 32767).round().astype(np.int16), (wave * 127 + 128).round().astype(np.uint8)):
        got = analyze_speech(pcm[None], sr, 25.0)
        assert got.clipped == 0.0
        assert np.mean((got.openness >= 0.3) == (ref.openness >= 0.3)) >= 0.97, pcm.dtype
        np.testing.assert_allclose(float_samples(pcm[None])[0], wave, atol=0.013)  # 8-bit: 1/128 steps


class HoursOfAudio:
    """A (1, S) waveform of ``hours`` at ``rate`` made on demand (never held): silence with a
    voiced 150 Hz buzz in every 10th second."""

    dtype, ndim = np.dtype(np.float32), 2

    def __init__(self, hours: float, rate: int):
        self.rate, self.shape = rate, (1, int(hours * 3600 * rate))
        t = np.arange(rate) / rate
        self.second = (0.2 * sum(np.sin(2 * np.pi * 150 * h * t) / h for h in range(1, 6))).astype(np.float32)

    @property
    def size(self) -> int:
        return self.shape[1]

    def __getitem__(self, key):
        a, b, _ = key[1].indices(self.shape[1])
        out = np.zeros(max(0, b - a), np.float32)
        for s0 in range(a // (10 * self.rate) * 10 * self.rate, b, 10 * self.rate):  # each 10th second
            lo, hi = max(a, s0), min(b, s0 + self.rate)
            if hi > lo:
                out[lo - a : hi - a] = self.second[lo - s0 : hi - s0]
        return out[None]


def test_hours_at_96khz_in_bounded_memory():
    """Three hours at 96 kHz (1.0e9 samples, 4 GB as float32) read a block at a time: the work
    memory stays under 64 MB and the buzz reads open, the silence closed (1 frame per second)."""
    import tracemalloc

    wave = HoursOfAudio(3.0, 96000)
    tracemalloc.start()
    got = analyze_speech(wave, 96000, 1.0)
    img = speech_plot(wave, 96000, got.openness, got.viseme, 1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 << 20, peak / 2**20
    assert got.num_frames == 3 * 3600 and img.shape == (194, 1024, 3)
    buzz = (np.arange(got.num_frames) % 10) == 0  # frame k shows second k + 0.5
    assert (got.openness[buzz] >= 0.3).mean() >= 0.95 and (got.openness[~buzz] == 0).all()
