"""Lip-sync figures (issue 12), measured side by side in one run.

0. Speech reading on recorded human speech with phone alignments (registry packages:
   ``scripts/harness/recorded_speech.py``), per language at 25 fps, the reader before issue 21
   (commit f2eefae, read with ``git show``), after its first round (a1b89c1: nasal-murmur gate),
   its second (dad471a: formant-ridge test) and now (voicing read above 250 Hz, so room rumble
   and hum are not a voice; aperiodic frames with little power above 3 kHz count as sounding;
   the dip test: a frame quieter than the sound 40 ms before and after it is a closure;
   constants by leave-one-clip-out) side by side: open/closed agreement (all frames pooled,
   lowest clip), p/b/m frames read closed (m alone read open), lags seen; beside them, when it is
   installed, PocketSphinx's English phone recogniser on the English clips, and how many frames'
   truth depends on a phone edge moved 20 ms. Then
   leave-one-clip-out: for each clip, the reader's constants (LOUD_DB, MURMUR_DB, the ridge and
   dip tests' midpoints or off) picked on the other clips alone, read on the held-out clip.

   Measured (one run; 14 clips: English nine, 90 s; Japanese five, 13 s)::

                          f2eefae        a1b89c1        dad471a        now
     English agreement    0.736 (0.597)  0.710 (0.488)  0.775 (0.700)  0.817 (0.676)
     English p/b/m closed 0.64 of 102    0.69           0.81           0.83
     Japanese agreement   0.798 (0.725)  0.846 (0.762)  0.858 (0.787)  0.881 (0.787)
     Japanese p/b/m       3 of 11        8 of 11        6 of 11        9 of 11
     lags                 0, 1           0              0, 1           0
     PocketSphinx allphone (English phones, a trained recogniser as yardstick):
                          English 0.812 (0.735), p/b/m 0.84, lag 0
     truth moved 20 ms either way (an aligner's usual error) changes 0.217 of the English
     frames, 0.303 of the Japanese: most misses left sit within reach of a phone edge
     leave-one-clip-out                                                English 0.815, p/b/m 0.84;
                                                                       Japanese 0.861, p/b/m 0.64
     espeak-ng En/Es/Zh/Ja (section 1, markers moved to their sound):
       f2eefae 0.892/0.879/0.921/0.931, a1b89c1 0.882/0.868/0.895/0.864,
       dad471a 0.878/0.878/0.912/0.932, now 0.885/0.886/0.929/0.914

   Clips added in issue 21's third round (MFA's cold_corpus and cold_corpus3, praatio's mary;
   GlobalPhone's four Japanese utterances in polyglotdb) were first read by dad471a as a held-out
   check: English 0.728 (p/b/m 0.73 of 59), Japanese 0.879 (4 of 7); now 0.796 (0.83) and 0.911
   (7 of 7), with constants that leave-one-clip-out picks for 10 of the 14 folds. The clips of
   the second round read 0.839 (p/b/m 0.93 of 43) English and 0.787 (2 of 4) Japanese at
   dad471a, 0.846 (0.84) and 0.787 (2 of 4) now.
1. Speech reading vs espeak-ng phoneme timings, per language, four texts each at 24, 25
   and 30 fps (mean and lowest clip): this pack's acoustic reader (now, at dad471a, a1b89c1 and
   f2eefae) and, when the ``pocketsphinx`` package is importable, PocketSphinx's English phone recogniser
   (allphone) on the same audio; scored against espeak-ng's own marker times and against
   the markers moved to their sound (``espeak_truth.align_to_sound``, what the tests use).
2. Warped crops: the face landmarker's mouth opening on every crop vs the target curve
   (Pearson r) and the mean change outside the mouth region, for a talking picture
   (astronaut.png) and a re-dub of single_face.mp4's own crops.
3. Ten minutes of speech: analysis work memory 1 min vs 10 min (the input excluded), and
   the talking-picture crops written to an mp4 with the sound: frame count, audio length,
   and at the end of the file the mouth (darkness inside it) still in step with the speech.

Run: ``.venv/bin/python -m benchmarks.bench_speech`` (part of ``make bench``); ``--reading``
runs sections 0 and 1 only.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

from models.extract.face_mesh import FaceMeshDetector
from models.io.video import Audio, FileVideo
from models.io.video_writer import write_mp4
from models.speech import analysis
from models.speech.analysis import analyze_speech
from models.speech.mouth import mouth_opening, mouth_region
from models.speech.sources import picture_crop, redub, talking_picture, track_points
from models.speech.visemes import CLOSED, CONSONANT, FV, OPEN, ROUNDED, SILENCE, SPREAD, VOWELS
from scripts.harness import fetch_media, recorded_speech
from scripts.harness.espeak_truth import SAMPLES, TEXTS, align_to_sound, frame_truth, lag_frames, score, speak

FPS = 25.0
BEFORE = "f2eefae"
"""The commit whose reader the figures are compared with (before issue 21's murmur gate)."""
MURMUR = "a1b89c1"
"""Issue 21's first round: the nasal-murmur gate, before the formant-ridge test."""
RIDGE = "dad471a"
"""Issue 21's second round: the formant-ridge test, before voicing read above the rumble and
the hiss-based fallback for aperiodic vowels."""
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reader_at(commit: str):
    """``analyze_speech`` of models/speech/analysis.py at ``commit`` (from ``git show``, imported
    beside today's package so its relative imports resolve), or None without the history."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:models/speech/analysis.py"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = tempfile.mkdtemp(prefix="speech_reader_")
    path = os.path.join(folder, "analysis.py")
    with open(path, "wb") as f:
        f.write(source)
    name = f"models.speech.analysis_{commit}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.analyze_speech


def recorded_cell(reader, clips) -> str:
    """One reader on one language's clips: agreement pooled (lowest clip), p/b/m, m, lags."""
    truth, curve, per_clip, lags, m_open = [], [], [], set(), []
    for clip in clips:
        got = reader(clip.wave[None], clip.sample_rate, FPS)
        t = recorded_speech.frame_classes(clip.events(), got.num_frames, FPS)
        s = score(t, got.openness, got.viseme)
        per_clip.append(s["open_closed"])
        lags.add(s["lag"])
        truth.append(t)
        curve.append(got.openness)
        m_open += [o >= 0.3 for o, ph in zip(got.openness, clip.frame_labels(got.num_frames, FPS)) if ph == "m"]
    truth, curve = np.concatenate(truth), np.concatenate(curve)
    agree = np.mean(np.isin(truth, VOWELS) == (curve >= 0.3))
    closed = curve[truth == CLOSED] < 0.3
    return (
        f"{agree:.3f} ({min(per_clip):.3f}), p/b/m closed {closed.mean():.2f} of {closed.size} "
        f"(m open {np.mean(m_open):.2f} of {len(m_open)}), lag {sorted(lags)}"
    )


def sphinx_reader():
    """PocketSphinx's English phone recogniser (allphone) as a reader of recorded clips (English
    only: a trained phone recogniser as a yardstick for the acoustic reader), or None."""
    if importlib.util.find_spec("pocketsphinx") is None:
        return None

    def read(waveform, sample_rate, fps):
        T = analysis.frame_count(waveform.shape[1], sample_rate, fps)
        openness, viseme = pocketsphinx_reading(waveform[0], sample_rate, T, fps)
        return analysis.SpeechFrames(openness, viseme, np.zeros((T, 0), np.float32), fps, 0.0)

    return read


def alignment_spread(clips, shift_ms: float = 20.0) -> float:
    """Share of frames (pooled) whose open/closed truth changes when the phone alignment moves
    ``shift_ms`` either way: how much of the score rests on where an aligner put a phone edge."""
    changed = total = 0
    for clip in clips:
        T = analysis.frame_count(len(clip.wave), clip.sample_rate, FPS)
        truth = [
            np.isin(recorded_speech.frame_classes([(ms + d, v) for ms, v in clip.events()], T, FPS), VOWELS)
            for d in (-shift_ms, 0.0, shift_ms)
        ]
        changed += int(np.sum((truth[0] != truth[1]) | (truth[2] != truth[1])))
        total += T
    return changed / total


def recorded_table(readers):
    print(
        "0. recorded human speech with phone alignments, 25 fps, f2eefae | a1b89c1 | dad471a | now:\n"
        "   open/closed agreement pooled (lowest clip), p/b/m read closed (m alone read open), lags"
    )
    clips, sphinx = recorded_speech.clips(), sphinx_reader()
    for lang in dict.fromkeys(c.language for c in clips):
        mine = [c for c in clips if c.language == lang]
        print(f"   {lang} ({len(mine)} clips, {sum(len(c.wave) / c.sample_rate for c in mine):.0f} s):")
        for tag, reader in readers:
            cell = "not available (no git history)" if reader is None else recorded_cell(reader, mine)
            print(f"      {tag:8s} {cell}")
        if lang == "English" and sphinx is not None:
            print(f"      sphinx   {recorded_cell(sphinx, mine)}  (PocketSphinx allphone, English phones)")
        print(f"      truth moved 20 ms either way changes {alignment_spread(mine):.3f} of the frames")


LOO_GRID = [
    (loud, murmur, ridge, dip)
    for loud in (-14.0, -12.5, -11.0)
    for murmur in (-10.0, -9.0, -8.0, -7.0, -6.0)
    for ridge in (8.0, None)
    for dip in (-4.0, -3.0, -2.0, None)
]
"""(LOUD_DB midpoint, MURMUR_DB midpoint, RIDGE_DB midpoint or None for no ridge test,
DIP_DB midpoint or None for no dip test)."""


def _read_with(rel, level, constants):
    """Openness (T,) of relative features with the reader's constants set to ``constants``."""
    loud, murmur, ridge, dip = constants
    saved = analysis.LOUD_DB, analysis.MURMUR_DB, analysis.RIDGE_DB, analysis.DIP_DB
    analysis.LOUD_DB = (loud, saved[0][1])
    analysis.MURMUR_DB = (murmur, saved[1][1])
    analysis.RIDGE_DB = (1e3 if ridge is None else ridge, saved[2][1])
    analysis.DIP_DB = (-1e3 if dip is None else dip, saved[3][1])
    try:
        return analysis.classify(rel, level)[0]
    finally:
        analysis.LOUD_DB, analysis.MURMUR_DB, analysis.RIDGE_DB, analysis.DIP_DB = saved


def _pooled(items):
    """items [(truth (T,), openness (T,))] -> (agreement pooled, p/b/m read closed pooled)."""
    truth = np.concatenate([t for t, _ in items])
    curve = np.concatenate([o for _, o in items])
    closed = curve[truth == CLOSED] < 0.3
    return float(np.mean(np.isin(truth, VOWELS) == (curve >= 0.3))), float(closed.mean()) if closed.size else 1.0


def leave_one_clip_out():
    """Each recorded clip read with the constants that do best on the other clips (mean of the
    per-language pooled agreements, with p/b/m >= 0.8 pooled and espeak-ng >= 0.86 per language
    at 25 fps as bounds); prints the held-out figures per language and each fold's pick."""
    clips = recorded_speech.clips()
    rec = []
    for clip in clips:
        raw = analysis.speech_features(clip.wave[None], clip.sample_rate, FPS)
        rel, level = analysis.relative_features(raw)
        rec.append((clip, rel, level, recorded_speech.frame_classes(clip.events(), len(rel), FPS)))
    synth = []
    for lang, (voice, texts) in TEXTS.items():
        for text in texts:
            wave, sr, events = speak(text, voice)
            rel, level = analysis.relative_features(analysis.speech_features(wave[None], sr, FPS))
            synth.append((lang, rel, level, frame_truth(events, len(rel), FPS)))
    reads = {c: [_read_with(rel, level, c) for _, rel, level, _ in rec] for c in LOO_GRID}
    synth_ok = {}
    for c in LOO_GRID:
        per = {}
        for lang, rel, level, truth in synth:
            per.setdefault(lang, []).append(np.mean(np.isin(truth, VOWELS) == (_read_with(rel, level, c) >= 0.3)))
        synth_ok[c] = min(np.mean(v) for v in per.values()) >= 0.86

    def merit(c, keep):
        if not synth_ok[c]:
            return -1.0
        langs = {}
        for i in keep:
            langs.setdefault(rec[i][0].language, []).append((rec[i][3], reads[c][i]))
        _, closed = _pooled([x for v in langs.values() for x in v])
        return float(np.mean([_pooled(v)[0] for v in langs.values()])) if closed >= 0.8 else -1.0

    held, picks = {}, []
    for j in range(len(rec)):
        best = max(LOO_GRID, key=lambda c: merit(c, [i for i in range(len(rec)) if i != j]))
        held.setdefault(rec[j][0].language, []).append((rec[j][3], reads[best][j]))
        picks.append(f"{rec[j][0].name} {best}")
    print("   leave-one-clip-out (constants picked without the clip; held-out clips pooled):")
    for lang, items in held.items():
        agree, closed = _pooled(items)
        lowest = min(_pooled([x])[0] for x in items)
        print(f"      {lang}: {agree:.3f} (lowest clip {lowest:.3f}), p/b/m closed {closed:.2f}")
    print("      picks (loud, murmur, ridge, dip): " + "; ".join(picks))


ARPABET = {
    **dict.fromkeys("P B M".split(), CLOSED),
    **dict.fromkeys("F V".split(), FV),
    **dict.fromkeys("AA AE AH AW AY ER".split(), OPEN),
    **dict.fromkeys("AO OW OY UH UW W".split(), ROUNDED),
    **dict.fromkeys("EH EY IH IY Y".split(), SPREAD),
}


def pocketsphinx_reading(wave: np.ndarray, sr: int, T: int, fps: float):
    """PocketSphinx allphone on 16 kHz audio -> (openness 0/1 (T,), viseme (T,)), or None."""
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError:
        return None
    from scipy.signal import resample_poly

    pcm = (np.clip(resample_poly(wave, 16000, sr), -1, 1) * 32767).astype(np.int16).tobytes()
    dec = Decoder(
        allphone=get_model_path("en-us/en-us-phone.lm.bin"), lw=2.0, beam=1e-20, pbeam=1e-20, loglevel="FATAL"
    )
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    t = (np.arange(T) + 0.5) / fps
    vis = np.full(T, SILENCE)
    for s in dec.seg():
        m = (t >= s.start_frame / 100.0) & (t < (s.end_frame + 1) / 100.0)
        vis[m] = SILENCE if s.word in ("SIL", "+NSN+", "+SPN+") else ARPABET.get(s.word, CONSONANT)
    return np.isin(vis, (OPEN, ROUNDED, SPREAD)).astype(np.float32), vis


def reading_table(older):
    """older: {"before": f2eefae's reader, "murmur": a1b89c1's, "ridge": dad471a's (each or None)}."""
    print(
        "1. speech reading vs espeak-ng phoneme timings, 4 texts x 24/25/30 fps per language:\n"
        "   open/closed agreement mean (lowest clip), viseme accuracy mean, lags seen"
    )
    rows = {}
    for lang, (voice, texts) in TEXTS.items():
        keys = ("pack raw", "pack", "before", "murmur", "ridge", "sphinx raw", "sphinx")
        got_rows = {key: ([], [], set()) for key in keys}
        for text in texts:
            wave, sr, raw = speak(text, voice, aligned=False)
            aligned = align_to_sound(raw, wave, sr)
            for fps in (24.0, 25.0, 30.0):
                got = analyze_speech(wave[None], sr, fps)
                olds = {k: r(wave[None], sr, fps) for k, r in older.items() if r is not None}
                ps = pocketsphinx_reading(wave, sr, got.num_frames, fps)
                for events, tag in ((raw, " raw"), (aligned, "")):
                    truth = frame_truth(events, got.num_frames, fps)
                    readings = [("pack", got.openness, got.viseme, 0.3)]
                    if not tag:
                        readings += [(k, old.openness, old.viseme, 0.3) for k, old in olds.items()]
                    if ps is not None:
                        readings.append(("sphinx", ps[0], ps[1], 0.5))
                    for name, curve, vis, threshold in readings:
                        s = score(truth, curve, vis, threshold)
                        agree, visemes, lags = got_rows[name + ("" if name in older else tag)]
                        agree.append(s["open_closed"])
                        visemes.append(s["viseme"])
                        lags.add(s["lag"])
        rows[lang] = got_rows
    for key, label in (
        ("pack raw", "pack, espeak-ng marker times"),
        ("pack", "pack, markers moved to their sound"),
        ("before", "pack at f2eefae, markers moved to their sound"),
        ("murmur", "pack at a1b89c1 (murmur gate), markers moved to their sound"),
        ("ridge", "pack at dad471a (formant ridge), markers moved to their sound"),
        ("sphinx raw", "pocketsphinx, marker times"),
        ("sphinx", "pocketsphinx, markers moved to their sound"),
    ):
        if not rows["English"][key][0]:
            print(f"   {label}: not installed")
            continue
        cells = []
        for lang, got_rows in rows.items():
            agree, visemes, lags = got_rows[key]
            cells.append(
                f"{lang} {np.mean(agree):.3f} ({min(agree):.3f}) / {np.mean(visemes):.3f} / lag {sorted(lags)}"
            )
        print(f"   {label}:\n      " + "\n      ".join(cells))


def warp_figures():
    print("2. warped crops: landmarker mouth opening vs target (r), mean change outside the mouth (/255)")
    from PIL import Image

    picture = np.asarray(Image.open(fetch_media.fetch("astronaut.png")).convert("RGB"))
    still, pts = picture_crop(picture, 512)
    outside = ~mouth_region(pts, 512)
    voice, text = SAMPLES["English"]
    wave, sr, _ = speak(text, voice)
    speech = analyze_speech(wave[None], sr, FPS)
    crops = talking_picture(picture, speech, Audio(wave[None], sr), smoothing=0.0)
    measured, change = [], []
    with FaceMeshDetector(video_mode=False) as det:
        for frame in crops.iter_frames():
            measured.append(mouth_opening(det.detect(frame).points2d))
            change.append(np.abs(frame.astype(np.float64) - still)[outside].mean())
    r = np.corrcoef(measured, crops.openness)[0, 1]
    print(
        f"   talking picture (astronaut, English): r {r:.3f}, outside max {max(change):.3f} mean {np.mean(change):.3f}"
    )

    from models.extract.driver import extract_motion
    from models.face.crops import face_track

    video = FileVideo(fetch_media.fetch("single_face.mp4"))
    face = face_track(video, extract_motion(video, hands=False), size=512)
    points, found = track_points(face)
    speech = analyze_speech(wave[None], sr, video.fps, face.num_frames)
    dub = redub(face, points, found, speech, Audio(wave[None], sr), smoothing=0.0)
    measured, change, target = [], [], []
    with FaceMeshDetector(video_mode=False) as det:
        for k, (src, frame) in enumerate(zip(face.crops(), dub.iter_frames())):
            lm = det.detect(frame)
            if lm is None or not found[k]:
                continue
            measured.append(mouth_opening(lm.points2d))
            target.append(dub.openness[k])
            change.append(np.abs(frame.astype(np.float64) - src)[~mouth_region(points[k], 512)].mean())
    r = np.corrcoef(measured, target)[0, 1]
    print(
        f"   re-dub (single_face.mp4, {len(measured)} of {face.num_frames} frames): r {r:.3f}, "
        f"outside max {max(change):.3f} mean {np.mean(change):.3f}"
    )


def long_speech(minutes: float):
    """espeak-ng sentences back to back for ``minutes``: (wave (N,), sr, events)."""
    waves, events, t0, sr = [], [], 0, 22050
    langs = list(SAMPLES.values())
    i = 0
    while t0 < minutes * 60 * sr:
        w, sr, ev = speak(langs[i % len(langs)][1], langs[i % len(langs)][0])
        events += [(ms + int(round(1000 * t0 / sr)), p) for ms, p in ev]
        waves.append(w)
        t0 += len(w)
        i += 1
    return np.concatenate(waves), sr, events


def ten_minutes():
    print("3. ten minutes of speech")
    wave, sr, events = long_speech(10.0)
    one = wave[: 60 * sr]
    peaks = []
    for w in (one, wave):
        tracemalloc.start()
        got = analyze_speech(w[None], sr, FPS)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    print(
        f"   analysis work memory: 1 min {peaks[0]:.1f} MB, 10 min {peaks[1]:.1f} MB (input {wave.nbytes / 2**20:.0f} MB)"
    )
    truth = frame_truth(events, got.num_frames, FPS)
    last = slice(got.num_frames - 60 * int(FPS), got.num_frames)
    s = score(truth[last], got.openness[last], got.viseme[last])
    print(f"   last minute vs phoneme timings: open/closed {s['open_closed']:.3f}, lag {s['lag']:+d}")

    from PIL import Image

    picture = np.asarray(Image.open(fetch_media.fetch("astronaut.png")).convert("RGB"))
    t = time.time()
    crops = talking_picture(picture, got, Audio(wave[None], sr), size=128, smoothing=0.0)
    _, pts = picture_crop(picture, 128)
    region = mouth_region(pts, 128)
    inner = region & (np.mgrid[0:128, 0:128][0] + 0.5 > pts[13, 1]) & (np.mgrid[0:128, 0:128][0] + 0.5 < pts[14, 1] + 6)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ten_minutes.mp4")
        write_mp4(path, crops.iter_frames(), FPS, crops.audio(), crf=30)
        wrote = time.time() - t
        import av

        dark, n = [], 0
        with av.open(path) as c:
            for frame in c.decode(video=0):
                if n >= crops.num_frames - 60 * int(FPS):
                    dark.append(255.0 - frame.to_ndarray(format="rgb24")[inner].mean())
                n += 1
        with av.open(path) as c:
            samples = sum(f.samples for f in c.decode(audio=0))
    tail = crops.openness[-len(dark) :]
    r = np.corrcoef(dark, tail)[0, 1]
    lag = lag_frames(tail.astype(np.float64), np.asarray(dark))
    print(
        f"   mp4: {n} frames for {crops.num_frames} speech frames, audio {samples / sr:.3f} s for "
        f"{crops.num_frames / FPS:.3f} s of frames; last minute: mouth darkness vs speech r {r:.3f}, lag {lag:+d} "
        f"frames (written in {wrote:.0f} s)"
    )


if __name__ == "__main__":
    older = {"before": reader_at(BEFORE), "murmur": reader_at(MURMUR), "ridge": reader_at(RIDGE)}
    recorded_table(
        [(BEFORE, older["before"]), (MURMUR, older["murmur"]), (RIDGE, older["ridge"]), ("now", analyze_speech)]
    )
    leave_one_clip_out()
    reading_table(older)
    if "--reading" not in sys.argv[1:]:
        os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_media.fetch_models())
        warp_figures()
        ten_minutes()
