"""Synthetic speech with known phoneme timings, from Debian's espeak-ng (ground truth for lip-sync).

``speak(text, voice)`` returns the 22,050 Hz mono waveform espeak-ng synthesises and
its phoneme events ``[(ms, mnemonic), ...]``, read through ctypes on
``libespeak-ng.so.1`` (synchronous output with phoneme events: the synth callback
gets the samples and the events, each with ``audio_position`` in milliseconds).
``frame_truth`` turns the events into per-video-frame viseme classes.

Test/benchmark tooling only (``scripts/harness``); the pack never runs espeak.
Install: ``apt-get install espeak-ng`` (scripts/harness/setup.sh does it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

import numpy as np

from models.speech.visemes import CLOSED, CONSONANT, FV, OPEN, ROUNDED, SILENCE, SPREAD

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
EVENT_PHONEME = 7
EVENT_LIST_TERMINATED = 0
POS_CHARACTER = 1
CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_LOCK = threading.Lock()
_STATE: dict = {}


def _library():
    if "lib" not in _STATE:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        lib = ctypes.CDLL(name)
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, None, INITIALIZE_PHONEME_EVENTS)
        if rate <= 0:
            raise RuntimeError("espeak_Initialize failed")
        _STATE.update(lib=lib, rate=int(rate))
    return _STATE["lib"]


def speak(text: str, voice: str = "en", rate_wpm: int = 160) -> tuple[np.ndarray, int, list[tuple[int, str]]]:
    """Synthesise ``text`` with espeak-ng ``voice``. Returns (wave (N,) float32 in [-1, 1],
    sample_rate, events [(start ms, phoneme mnemonic)]), events sorted by time."""
    with _LOCK:
        lib = _library()
        chunks: list[np.ndarray] = []
        events: list[tuple[int, str]] = []

        def on_synth(wav, n, ev):
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).astype(np.float32) / 32768.0)
            i = 0
            while ev[i].type != EVENT_LIST_TERMINATED:
                if ev[i].type == EVENT_PHONEME:
                    raw = bytes(ev[i].id.string).split(b"\0")[0]
                    events.append((int(ev[i].audio_position), raw.decode("latin-1")))
                i += 1
            return 0

        cb = _CALLBACK(on_synth)
        lib.espeak_SetSynthCallback(cb)
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice '{voice}'")
        lib.espeak_SetParameter(1, int(rate_wpm), 0)  # espeakRATE
        data = text.encode("utf-8") + b"\0"
        lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        wave = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return wave, _STATE["rate"], sorted(events)


_BY_FIRST = {
    **dict.fromkeys("pbmB", CLOSED),  # B: Spanish bilabial approximant, lips nearly shut
    **dict.fromkeys("fv", FV),
    **dict.fromkeys("aA&V3@", OPEN),  # diphthongs by their first target: aI, aU, Au, ai
    **dict.fromkeys("oO0uUwyYM", ROUNDED),
    **dict.fromkeys("iIeEj", SPREAD),
}


def phoneme_viseme(mnemonic: str) -> int | None:
    """espeak-ng phoneme mnemonic -> viseme class; None for events that are not a sound of
    their own (language switches '(en)', stress/length marks)."""
    if not mnemonic or mnemonic.startswith("("):
        return None
    if mnemonic[0] == "_":
        return SILENCE
    if not (mnemonic[0].isalnum() or mnemonic[0] in "@&"):
        return None
    return _BY_FIRST.get(mnemonic[0], CONSONANT)


def frame_truth(events: list[tuple[int, str]], num_frames: int, fps: float) -> np.ndarray:
    """Viseme class (num_frames,) int of the phoneme sounding at each frame's centre
    ((k + 0.5) / fps). A phoneme lasts until the next event; after the last one, silence."""
    kept = [(ms, c) for ms, p in events if (c := phoneme_viseme(p)) is not None]
    starts = np.array([ms / 1000.0 for ms, _ in kept] + [np.inf])
    classes = np.array([c for _, c in kept] + [SILENCE])
    t = (np.arange(num_frames) + 0.5) / fps
    idx = np.searchsorted(starts, t, side="right") - 1
    out = np.full(num_frames, SILENCE, np.int64)
    ok = idx >= 0
    out[ok] = classes[idx[ok]]
    return out


SAMPLES = {
    "English": ("en", "Hello world, my name is Bob and I love fresh pizza. Please meet me by the old bridge at five."),
    "Spanish": ("es", "Buenos días. ¿Cómo estás? Me gusta mucho la música y bailar por la mañana."),
    "Mandarin": (
        "cmn-latn-pinyin",
        "ni3 hao3, wo3 jiao4 wang2 ming2, wo3 ai4 bei3 jing1. jin1 tian1 tian1 qi4 hen3 hao3.",
    ),
    "Japanese": ("ja", "こんにちは。わたしのなまえはやまだです。きょうはいいてんきですね。"),
}
"""A sentence or two per language (Mandarin as pinyin: the cmn voice reads characters as English)."""


def lag_frames(truth: np.ndarray, curve: np.ndarray, max_lag: int = 6) -> int:
    """Lag (frames) of ``curve`` behind ``truth`` maximising their cross-correlation (> 0: late)."""
    a = (truth - truth.mean()) / (truth.std() + 1e-9)
    b = (curve - curve.mean()) / (curve.std() + 1e-9)
    n = len(a)
    best = max(
        range(-max_lag, max_lag + 1),
        key=lambda d: float(np.dot(a[max(0, -d) : n - max(0, d)], b[max(0, d) : n - max(0, -d)])),
    )
    return int(best)


def score(truth: np.ndarray, openness: np.ndarray, viseme: np.ndarray, threshold: float = 0.3) -> dict:
    """Per-frame scores of a reading against the truth classes (T,): open/closed agreement (a
    vowel sounds = open), viseme accuracy, and the openness curve's lag in frames."""
    from models.speech.visemes import VOWELS

    is_open = np.isin(truth, VOWELS)
    return {
        "open_closed": float(np.mean(is_open == (openness >= threshold))),
        "viseme": float(np.mean(truth == viseme)),
        "lag": lag_frames(is_open.astype(np.float64), openness.astype(np.float64)),
        "frames": int(len(truth)),
    }
