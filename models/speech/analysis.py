"""Speech -> per-video-frame mouth openness and viseme class, language-independent.

No phone recogniser: what the mouth does is read from the sound's acoustics, which
works for any language (measured against espeak-ng phoneme timings in English,
Spanish, Mandarin and Japanese, and against phone alignments of recorded English and
Japanese speech: ``tests/unit/test_speech_analysis.py``, ``benchmarks/bench_speech.py``).

Per video frame ``k`` a Hann window of ``WINDOW_S`` centred on the frame's middle,
``(k + 0.5) / fps``, gives a power spectrum, from which (all in Hz, so any sample
rate from 8 kHz to 96 kHz reads the same):

* loudness (dB) of the 80 Hz - 5 kHz speech band;
* voicing: the normalised autocorrelation peak in the 60-400 Hz pitch range, of the spectrum
  above 250 Hz (room rumble and hum are periodic too);
* an F1 proxy (power centroid of 200-1100 Hz: high for open vowels like /a/,
  low for /i/ /u/ and nasal murmurs) and an F2 proxy (share of 1.6-3.2 kHz against
  200-1.2 kHz: high for spread /i e/, low for rounded /o u/);
* hiss: the share of power above 3 kHz (fricatives s, f, sh);
* murmur: how much the 400-1450 Hz and 1.8-3.6 kHz bands fall below the 80-400 Hz band
  (two level differences, dB). A nasal (m, n) sounds through the nose with the lips or
  tongue closed: a strong low band and little above it (its antiformant), where every
  vowel has a formant in one of the two upper bands (/a u/ in the first, /i e/ in the second);
* ridge: how far the strongest of the 1.8-2.2, 2.2-2.7 and 2.7-3.3 kHz bands rises over the
  1.1-1.8 kHz valley (dB of power per Hz). A close front vowel (/i/) has a weak first formant
  region above 400 Hz, like a nasal, but its second and third formants stand 8-25 dB over
  that valley, where a nasal murmur falls away smoothly (recorded speech: /i/ median +10 dB,
  nasals 0 dB, ``scripts/harness/recorded_speech.py``).
* dip: how many dB the frame sits under the quieter of two windows 40 ms before and after it.
  The lips shut between two sounds (p b m), so a closure is quieter than both sides, where a
  vowel's onset or end is quieter than one side only.

The waveform is read a block of frames at a time (``BLOCK_FRAMES``), each frame's window on
its own, so the work memory grows neither with the length nor at low frame rates; only the
small per-frame feature arrays do. A second pass over those normalises loudness to the
clip's own level (the 95th percentile of its voiced frames) and the murmur bands to the
clip's own voice (their 75th percentile over loud voiced frames), so quiet and loud
recordings, and different voices and microphones, read the same.

Samples may be float or integer PCM (scaled by their full scale); NaN or infinite samples,
no samples or no audio rate are refused, naming the input 'audio' and the fix.
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
LOUD_DB = (-12.5, 3.0)
"""Loudness (dB under the speech level) at which a voiced frame is half open, and the
sigmoid's width: vowels sit within ~8 dB of the level, nasals and liquids 10-15 dB under.
This, MURMUR_DB, RIDGE_DB and DIP_DB are the values that leave-one-clip-out tuning on the 14
recorded clips picks for 10 of their 14 folds (espeak-ng speech >= 0.86 per language kept as a
bound; ``benchmarks/bench_speech.py``)."""
JAW_F1_HZ = (350.0, 750.0)
"""F1 proxy from a closed-ish jaw (/i u m n/) to a wide-open /a/."""
SPREAD_GAIN = 0.8
"""How much a high F2 share (spread /i e/) counts as open: /i/ has a low F1 like a nasal,
but unlike a nasal a strong second formant."""
OPEN_AT = 0.3
"""Openness from which a frame counts as open (a vowel is sounding)."""
MURMUR_DB = (-8.0, 2.5)
"""Murmur (dB under the clip's voiced frames, the larger of its two band differences) at which a
voiced frame's openness is halved, and the sigmoid's width: measured on recorded speech, nasals
sit 7-20 dB under, vowels mostly within 7 dB (``scripts/harness/recorded_speech.py``)."""
RIDGE_DB = (8.0, 2.0)
"""Ridge (dB) at which a frame the murmur gate would close counts as an /i/-like vowel after
all, and the sigmoid's width (recorded /i/ frames: quartiles +3 / +10 / +19 dB; nasals
-4 / 0 / +3 dB)."""
NUM_FEATURES = 9
DIP_S = 0.04
DIP_DB = (-2.0, 1.5)
"""A bilabial closure is a dip: the lips shut between two sounds, so the frame is quieter than
both the sound DIP_S before it and the one after it (a vowel's edge is quieter than one side
only). Dip (dB) at which openness is halved, and the sigmoid's width: leave-one-clip-out picks
a dip test in every fold (-2 dB in 10 of 14, over -3, -4 and none)."""
VOICING_HZ = 250.0
"""Voicing is read from the harmonics above this: below it, room rumble and mains hum are as
periodic as a voice (recorded speech with a cold in a noisy room, MFA's ``cold_corpus``: its
pauses read voicing 1.0 over the whole band, 0.2-0.4 above 250 Hz), while every voice's
harmonics above it keep the pitch period."""
SONORANT_HISS = 0.2
"""Share of power above 3 kHz under which a frame counts as sounding even when it reads
aperiodic: creaky, hoarse or noisy vowels lose their periodicity (loud /ʌ/ frames of
``cold_corpus`` read 0.2), a fricative or burst (s, sh, t, k) keeps its power up high."""


@dataclass
class SpeechFrames:
    """Speech read per video frame.

    openness: (T,) float32 in [0, 1], how open the mouth is (0 closed, 1 wide open).
    viseme: (T,) int64 class (``models.speech.visemes``).
    features: (T, 9) float32: loudness dB relative to the speech level, voicing,
        F1 proxy (Hz), F2 share, hiss share, the two murmur band differences (dB,
        relative to the clip's voice), the formant ridge (dB) and the dip (dB); kept for inspection
        and plots.
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


SCAN_SAMPLES = 1 << 20
"""Samples per channel read at a time when scanning or converting a whole recording."""


def _refuse(what: str, fix: str) -> DreamActorError:
    return DreamActorError(what, fix=fix, input="audio")


def sample_scale(dtype) -> tuple[float, float]:
    """(offset, scale) taking samples of ``dtype`` to float in [-1, 1]: floats as they are,
    signed PCM integers by their full scale, unsigned ones (8-bit WAV) around their middle."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 0.0, 1.0
    if dtype.kind == "i":
        return 0.0, 1.0 / (float(np.iinfo(dtype).max) + 1.0)
    if dtype.kind == "u":
        half = (float(np.iinfo(dtype).max) + 1.0) / 2.0
        return half, 1.0 / half
    raise _refuse(
        f"the audio samples are of type {dtype}, not numbers", "connect an AUDIO from Load Audio or Load Video"
    )


def read_mono(waveform, a: int, b: int) -> np.ndarray:
    """Samples ``a:b`` of waveform (C, S) (any numeric dtype) -> mono float32 (b - a,) in [-1, 1]."""
    offset, scale = sample_scale(waveform.dtype)
    x = np.asarray(waveform[:, a:b], np.float32).mean(0, dtype=np.float32)
    return (x - np.float32(offset)) * np.float32(scale) if scale != 1.0 or offset else x


def float_samples(waveform) -> np.ndarray:
    """waveform (C, S) of any numeric dtype -> float32 (C, S) in [-1, 1]; float32 comes back as
    it is, anything else is converted SCAN_SAMPLES at a time (no float64 copy of the whole)."""
    if waveform.dtype == np.float32:
        return np.asarray(waveform)
    offset, scale = sample_scale(waveform.dtype)
    out = np.empty(waveform.shape, np.float32)
    for a in range(0, waveform.shape[1], SCAN_SAMPLES):
        out[:, a : a + SCAN_SAMPLES] = (np.asarray(waveform[:, a : a + SCAN_SAMPLES], np.float32) - offset) * scale
    return out


def check_rate(sample_rate) -> int:
    """The sample rate as an int Hz, refusing what cannot be an audio rate (NaN, 0, 100 Hz, 10 MHz)."""
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        rate = float("nan")
    if not (np.isfinite(rate) and 4000 <= rate <= 384000 and rate == round(rate)):
        raise _refuse(
            f"sample rate {sample_rate!r} Hz is not an audio rate", "connect audio sampled at 8 kHz to 96 kHz"
        )
    return int(rate)


def check_audio(waveform: np.ndarray, sample_rate) -> int:
    """Refuse what cannot be speech: waveform (C, S) of numbers with at least one sample and a
    real audio rate. Returns the rate (int Hz). Samples are not read (``scan_samples`` does)."""
    shape = tuple(getattr(waveform, "shape", ()))
    if len(shape) != 2 or 0 in shape:
        raise _refuse(
            f"the audio has shape {shape}, with no samples",
            "connect an AUDIO holding speech (Load Video's audio output or a Load Audio node)",
        )
    sample_scale(waveform.dtype)
    return check_rate(sample_rate)


def scan_samples(waveform) -> float:
    """Read waveform (C, S) once, SCAN_SAMPLES at a time: refuses NaN or infinite samples (a
    broken decoder or effect), returns the share of clipped samples (>= 0.999 of full scale)."""
    bad = clipped = 0
    for a in range(0, waveform.shape[1], SCAN_SAMPLES):
        offset, scale = sample_scale(waveform.dtype)
        x = np.asarray(waveform[:, a : a + SCAN_SAMPLES])
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            finite = np.isfinite(x)
            bad += int(x.size - np.count_nonzero(finite))
            x = np.where(finite, x, 0)
        clipped += int(np.count_nonzero(np.abs((x - offset) * scale) >= 0.999))
    if bad:
        raise _refuse(
            f"{bad} of the audio's {waveform.size} samples are NaN or infinite (a broken file or effect)",
            "re-export the audio (or remove the effect that produced it) and load it again",
        )
    return clipped / float(waveform.size)


def frame_count(num_samples: int, sample_rate: int, fps: float) -> int:
    """Video frames that cover ``num_samples``: the last frame starts before the sound ends,
    unless less than 1 % of a frame's time is left (a sound cut at a frame boundary and
    rounded to whole samples, as Load Video's audio is, gives exactly its frames)."""
    return max(1, int(np.ceil(num_samples * fps / sample_rate - 0.01)))


def _window_features(seg: np.ndarray, sr: int) -> np.ndarray:
    """seg (n, W) windows of mono samples -> (n, 8) raw features (dB, voicing, F1, F2 share, hiss,
    murmur mid - low dB, murmur high - low dB, formant ridge dB)."""
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
    low_band, _ = band(80, 400)
    mid = 10 * np.log10(band(400, 1450)[0] / low_band)
    high = 10 * np.log10(band(1800, 3600)[0] / low_band)
    ridge = _ridge(spec, freqs, sr)
    # voicing: normalised autocorrelation peak at pitch lags (60-400 Hz)
    # (divided by the window's own autocorrelation, which would otherwise damp long pitch lags)
    ac = np.fft.irfft(np.where(freqs >= VOICING_HZ, spec, 0.0), nfft)[:, :W]
    acw = np.fft.irfft(np.abs(np.fft.rfft(win, nfft)) ** 2, nfft)[:W]
    lag0, lag1 = int(sr / 400), min(int(sr / 60), W // 2)
    voicing = (ac[:, lag0:lag1] / acw[lag0:lag1]).max(1) / (ac[:, 0] / acw[0] + 1e-12)
    return np.stack([db, voicing, f1, f2, hiss, mid, high, ridge], 1)


def _ridge(spec: np.ndarray, freqs: np.ndarray, sr: int) -> np.ndarray:
    """spec (n, F) power spectra -> (n,) dB by which the strongest of three upper bands
    (F2/F3 of a front vowel) rises over the 1.1-1.8 kHz valley, per Hz (bands of unequal width)."""

    def density(lo, hi):
        m = (freqs >= lo) & (freqs < min(hi, sr / 2))
        return spec[:, m].mean(1) + 1e-12 if m.any() else np.full(len(spec), 1e-12)

    peak = np.maximum(np.maximum(density(1800, 2200), density(2200, 2700)), density(2700, 3300))
    return 10 * np.log10(peak / density(1100, 1800))


def _windows(waveform, starts: np.ndarray, W: int) -> np.ndarray:
    """Mono windows (n, W) float32 of waveform (C, S) starting at sample ``starts`` (n,),
    zero where they reach past either end."""
    S = waveform.shape[1]
    seg = np.zeros((len(starts), W), np.float32)
    for i, st in enumerate(starts.tolist()):
        a, b = max(0, st), min(S, st + W)
        if b > a:
            seg[i, a - st : b - st] = read_mono(waveform, a, b)
    return seg


def _loudness(seg: np.ndarray, sr: int) -> np.ndarray:
    """seg (n, W) windows -> (n,) dB of the 80 Hz - 5 kHz band (as ``_window_features``'s first)."""
    W = seg.shape[1]
    nfft = 1 << int(np.ceil(np.log2(2 * W)))
    spec = np.abs(np.fft.rfft(seg * np.hanning(W), nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    speech = spec[:, (freqs >= 80) & (freqs < min(5000, sr / 2))].sum(1) + 1e-12
    return 10 * np.log10(speech / (W * 0.375) + 1e-12)


def speech_features(waveform: np.ndarray, sample_rate: int, fps: float, num_frames: int | None = None) -> np.ndarray:
    """waveform (C, S) -> raw features (T, 9), read BLOCK_FRAMES frames at a time, each frame's
    window on its own (so the work memory depends neither on the length nor on the frame rate).

    T defaults to the frames covering the sound (``frame_count``); frames past the
    sound's end read silence."""
    sr, S = check_audio(waveform, sample_rate), waveform.shape[1]
    T = frame_count(S, sr, fps) if num_frames is None else int(num_frames)
    W = max(16, int(round(WINDOW_S * sr)))
    shift = int(round(DIP_S * sr))
    out = np.empty((T, NUM_FEATURES), np.float32)
    for k0 in range(0, T, BLOCK_FRAMES):
        k1 = min(T, k0 + BLOCK_FRAMES)
        starts = np.round((np.arange(k0, k1) + 0.5) * sr / fps).astype(np.int64) - W // 2
        out[k0:k1, :8] = _window_features(_windows(waveform, starts, W), sr)
        # dip: how far the frame sits under the quieter of the sounds DIP_S before and after it
        sides = np.minimum(
            _loudness(_windows(waveform, starts - shift, W), sr), _loudness(_windows(waveform, starts + shift, W), sr)
        )
        out[k0:k1, 8] = out[k0:k1, 0] - sides
    return out


def speech_level(feats: np.ndarray) -> float:
    """The clip's speech level (dB): 95th percentile of loud voiced frames (-20 dBFS when none)."""
    db, voicing = feats[:, 0], feats[:, 1]
    loud = db[(voicing > 0.4) & (db > -65)]
    return float(np.percentile(loud, 95)) if loud.size >= 3 else -20.0


def relative_features(feats: np.ndarray) -> tuple[np.ndarray, float]:
    """Raw features (T, 9) -> (features relative to the clip (T, 9), speech level dB): loudness
    under the speech level, the murmur bands under their 75th percentile over the clip's loud
    voiced frames (0 when it has fewer than 3); the ridge, a shape within one spectrum, as it is."""
    level = speech_level(feats)
    rel = feats.copy()
    rel[:, 0] -= level
    loud = (rel[:, 0] > -15) & (rel[:, 1] > 0.5) & (feats[:, 0] > -65)
    if loud.sum() >= 3:
        rel[:, 5:7] -= np.percentile(rel[loud, 5:7], 75, axis=0)
    else:
        rel[:, 5:7] = 0.0
    return rel, level


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic of x (any shape), its argument bounded (no overflow on extreme frames)."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def classify(rel: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Features relative to the clip (T, 9) + speech level -> (openness (T,) in [0, 1], viseme (T,) int).

    Openness grows with loudness relative to the speech level and with the F1 proxy (a wide-open
    /a/ is louder and has a higher F1 than /i/ or a nasal); aperiodic frames with their power up
    high (fricatives, bursts) stay nearly closed, and so do nasal murmurs (m: lips shut), unless
    a formant ridge shows the murmur-like frame is a close front vowel (/i/), and frames quieter
    than the sound on both sides of them (a closure between two sounds) are closed too."""
    db = rel[:, 0]
    voicing, f1, f2, hiss = rel[:, 1], rel[:, 2], rel[:, 3], rel[:, 4]
    murmur = np.maximum(rel[:, 5], rel[:, 6])
    silent = (db < -SILENCE_DB) | (db + level < -65)
    loud = _sigmoid((db - LOUD_DB[0]) / LOUD_DB[1])
    jaw = np.clip((f1 - JAW_F1_HZ[0]) / (JAW_F1_HZ[1] - JAW_F1_HZ[0]), 0.0, 1.0)
    voiced = np.clip((voicing - 0.3) / 0.3, 0.0, 1.0)
    # a creaky or hoarse vowel reads aperiodic; what tells it from a fricative is where its power is
    voiced = np.maximum(voiced, np.clip(1.0 - hiss / SONORANT_HISS, 0.0, 1.0))
    shape = np.clip(0.45 + 0.55 * jaw + SPREAD_GAIN * f2, 0.0, 1.0)
    # mouth open unless a murmur (m n: little above 400 Hz) with no front-vowel formant ridge
    oral = np.maximum(
        _sigmoid((murmur - MURMUR_DB[0]) / MURMUR_DB[1]), _sigmoid((rel[:, 7] - RIDGE_DB[0]) / RIDGE_DB[1])
    )
    openness = loud * voiced * shape * oral * _sigmoid((rel[:, 8] - DIP_DB[0]) / DIP_DB[1])
    openness = np.where(silent, 0.0, openness).astype(np.float32)

    vis = np.full(len(db), CONSONANT, np.int64)
    vowel = (openness >= OPEN_AT) & (hiss < 0.5)
    vis[vowel & (f2 >= 0.12)] = SPREAD
    vis[vowel & (f2 < 0.12)] = ROUNDED
    vis[vowel & (jaw >= 0.55)] = OPEN
    nasal = ~vowel & ~silent & (voicing > 0.5) & (hiss < 0.1) & ((f1 < 330) | (oral < 0.5))
    vis[nasal] = CLOSED
    weak_hiss = ~vowel & ~silent & (hiss >= 0.3) & (db < -12)
    vis[weak_hiss] = FV
    vis[silent] = SILENCE
    return openness, vis


def analyze_speech(waveform: np.ndarray, sample_rate: int, fps: float, num_frames: int | None = None) -> SpeechFrames:
    """waveform (C, S) float in [-1, 1] at ``sample_rate`` -> :class:`SpeechFrames` at ``fps``."""
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and 0 < fps <= 1000):
        raise DreamActorError(f"fps {fps} is not a frame rate", fix="set fps to the video's frame rate", input="fps")
    check_audio(waveform, sample_rate)
    clipped = scan_samples(waveform)
    rel, level = relative_features(speech_features(waveform, sample_rate, fps, num_frames))
    openness, vis = classify(rel, level)
    return SpeechFrames(openness, vis, rel, float(fps), clipped)


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
