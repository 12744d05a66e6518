"""Speech -> per-frame mouth openness and visemes, scored against espeak-ng phoneme timings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from models.core.errors import DreamActorError
from models.speech import analysis
from models.speech.analysis import analyze_speech, frame_count, speech_notes
from models.speech.visemes import SILENCE
from scripts.harness.espeak_truth import SAMPLES, TEXTS, align_to_sound, frame_truth, score, speak


@pytest.fixture(scope="module")
def spoken():
    return {lang: speak(text, voice) for lang, (voice, text) in SAMPLES.items()}


@pytest.mark.parametrize("lang", list(TEXTS))
def test_open_closed_and_lag_per_language(spoken, lang):
    """The issue's goal: open/closed agreement >= 85 % per language, lag <= 1 frame, on four
    texts at 24/25/30 fps. Measured over 8 fresh espeak-ng runs (its waveform varies a little
    from run to run): mean per language English 0.880-0.892, Spanish 0.876-0.884, Mandarin
    0.918-0.928, Japanese 0.931-0.937; lowest single clip 0.802 (Spanish)."""
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
