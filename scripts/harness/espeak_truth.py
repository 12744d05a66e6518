"""Synthetic speech with known phoneme timings, from Debian's espeak-ng (ground truth for lip-sync).

``speak(text, voice)`` returns the 22,050 Hz mono waveform espeak-ng synthesises and
its phoneme events ``[(ms, mnemonic), ...]``, read through ctypes on
``libespeak-ng.so.1`` (synchronous output with phoneme events: the synth callback
gets the samples and the events, each with ``audio_position`` in milliseconds).
``align_to_sound`` moves the two kinds of marker espeak-ng emits late to where their
sound starts, and ``frame_truth`` turns the events into per-video-frame viseme classes.

Test/benchmark tooling only (``scripts/harness``); the pack never runs espeak.
Install: ``apt-get install espeak-ng`` (scripts/harness/setup.sh does it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

import numpy as np

from models.speech.visemes import CLOSED, CONSONANT, FV, OPEN, ROUNDED, SILENCE, SPREAD, VOWELS

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


def speak(
    text: str, voice: str = "en", rate_wpm: int = 160, aligned: bool = True
) -> tuple[np.ndarray, int, list[tuple[int, str]]]:
    """Synthesise ``text`` with espeak-ng ``voice``. Returns (wave (N,) float32 in [-1, 1],
    sample_rate, events [(start ms, phoneme mnemonic)]), events sorted by time; with
    ``aligned`` the events are moved to their sound (``align_to_sound``), else espeak-ng's
    own marker times."""
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
    events = sorted(events)
    return wave, _STATE["rate"], align_to_sound(events, wave, _STATE["rate"]) if aligned else events


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


STOPS = frozenset("ptkbdgc")
"""First letters of espeak-ng's stop and affricate mnemonics (t, tS, t_s\\, th, ...)."""
SONORANTS = frozenset("mnNJlLrR")
"""First letters of its nasal and liquid mnemonics."""
CLOSURE_DB = 25.0
"""A stop's closure: the stretch before its marker this far under the clip's loud level (espeak-ng
synthesises it as digital silence, ~-86 dBFS)."""


def _envelope(wave: np.ndarray, sr: int, hop_s: float = 0.0025, win_s: float = 0.01):
    """Short-time power of wave (N,) -> (times (n,) s, dB (n,)), 10 ms windows every 2.5 ms."""
    hop, win = int(sr * hop_s), int(sr * win_s)
    n = max(0, (len(wave) - win) // hop)
    frames = wave[np.arange(n)[:, None] * hop + np.arange(win)]
    return (np.arange(n) * hop + win / 2) / sr, 10 * np.log10(np.mean(frames**2, 1) + 1e-10)


def align_to_sound(events: list[tuple[int, str]], wave: np.ndarray, sr: int) -> list[tuple[int, str]]:
    """Events [(ms, mnemonic)] with two kinds of late marker moved to where their sound starts.

    espeak-ng's ``Generate()`` (synthesize.c) writes a phoneme's pause-before (a stop's
    closure) to the audio before the phoneme's marker, so the closure silence (~40 ms at
    160 wpm) is reported as the end of the phoneme before it, a vowel typically; and it
    writes a vowel that follows a nasal or liquid's marker after the vowel's start, so
    the release into the vowel (~15-20 ms) is reported as the nasal. Here a stop starts
    where the silence before its marker starts (its burst may begin up to 15 ms before
    the marker), and such a vowel starts at the steepest rise of loudness in the 40 ms
    before its marker (when it rises by > 3 dB in 10 ms). Other events are kept."""
    t, db = _envelope(np.asarray(wave, np.float64), sr)
    if len(t) < 8:
        return list(events)
    quiet = db < np.percentile(db, 95) - CLOSURE_DB
    out: list[tuple[int, str]] = []
    prev, prev_p = None, ""  # start (s) and mnemonic of the last sound event
    for ms, p in events:
        s = ms / 1000.0
        if phoneme_viseme(p) is None:
            out.append((ms, p))
            continue
        if p[:1] in STOPS and prev is not None:
            k = int(np.searchsorted(t, s)) - 1
            while k >= 0 and t[k] > s - 0.015 and not quiet[k]:
                k -= 1
            while k >= 0 and t[k] > prev and quiet[k]:
                s = t[k] - 0.005
                k -= 1
            s = max(s, prev)
        elif phoneme_viseme(p) in VOWELS and prev is not None and prev_p[:1] in SONORANTS:
            m = (t > max(s - 0.04, prev + 0.01)) & (t <= s + 0.005)
            if m.sum() >= 6:
                rise = db[m][4:] - db[m][:-4]
                k = int(np.argmax(rise))
                if rise[k] > 3.0:
                    s = min(s, float(t[m][k + 2]))
        out.append((int(round(1000 * s)), p))
        prev, prev_p = s, p
    return out


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


TEXTS = {
    "English": (
        "en",
        (
            "Hello world, my name is Bob and I love fresh pizza. Please meet me by the old bridge at five.",
            "The quick brown fox jumps over the lazy dog. We bought a map of the big bay.",
            "Maybe my mother will bring more bread home before the movie begins.",
            "Open the window and let the warm summer air fill the room.",
        ),
    ),
    "Spanish": (
        "es",
        (
            "Buenos días. ¿Cómo estás? Me gusta mucho la música y bailar por la mañana.",
            "El perro de mi vecino come pan blanco por la mañana.",
            "Mañana vamos a la playa con mis amigos para nadar en el mar.",
            "Mi madre prepara una sopa caliente cuando hace mucho frío.",
        ),
    ),
    "Mandarin": (
        "cmn-latn-pinyin",
        (
            "ni3 hao3, wo3 jiao4 wang2 ming2, wo3 ai4 bei3 jing1. jin1 tian1 tian1 qi4 hen3 hao3.",
            "wo3 men5 ming2 tian1 qu4 bei3 jing1 kan4 peng2 you3.",
            "ma1 ma5 mai3 le5 hen3 duo1 pin2 guo3 he2 mian4 bao1.",
            "zhe4 ben3 shu1 fei1 chang2 you3 yi4 si5, ni3 ye3 ying1 gai1 kan4 kan4.",
        ),
    ),
    "Japanese": (
        "ja",
        (
            "こんにちは。わたしのなまえはやまだです。きょうはいいてんきですね。",
            "あめがふっているので、かさをもっていきましょう。",
            "まいにちはやくおきて、さんぽをします。",
            "このみせのぱんはとてもおいしいです。",
        ),
    ),
}
"""Four texts per language, with bilabials, nasals, liquids and stops between vowels (Mandarin
as pinyin: the cmn voice reads characters as English)."""
SAMPLES = {lang: (voice, texts[0]) for lang, (voice, texts) in TEXTS.items()}
"""The first text per language (one sentence or two)."""


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
    vowel sounds = open; consonants, pauses and stop closures closed, since the jaw closes
    and, for m/b/p and f/v, the lips meet or touch the teeth; w and j count with the vowel
    they glide into), viseme accuracy, and the openness curve's lag in frames."""
    is_open = np.isin(truth, VOWELS)
    return {
        "open_closed": float(np.mean(is_open == (openness >= threshold))),
        "viseme": float(np.mean(truth == viseme)),
        "lag": lag_frames(is_open.astype(np.float64), openness.astype(np.float64)),
        "frames": int(len(truth)),
    }
