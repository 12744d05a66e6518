"""docs/speech_strip.jpg: the astronaut speaking an espeak-ng English line, a strip of the
crops DreamActor Speech To Face makes, with the mouth-opening curve of that stretch under them.

Run: ``.venv/bin/python -m scripts.demo.speech_strip`` (needs espeak-ng and the MediaPipe model).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from models.io.video import Audio
from models.speech.analysis import analyze_speech
from models.speech.plot import speech_plot
from models.speech.sources import talking_picture
from scripts.harness import fetch_media
from scripts.harness.espeak_truth import SAMPLES, speak

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FPS, TILE, COUNT, STEP, FIRST = 25.0, 192, 10, 2, 24


def main(path: str = os.path.join(ROOT, "docs", "speech_strip.jpg")) -> str:
    voice, text = SAMPLES["English"]
    wave, sr, _ = speak(text, voice)
    speech = analyze_speech(wave[None], sr, FPS)
    picture = np.asarray(Image.open(fetch_media.fetch("astronaut.png")).convert("RGB"))
    crops = talking_picture(picture, speech, Audio(wave[None], sr), size=512)
    picks = FIRST + STEP * np.arange(COUNT)
    tiles = [np.asarray(Image.fromarray(crops.window(int(k), int(k) + 1)[0]).resize((TILE, TILE))) for k in picks]
    strip = np.concatenate(tiles, 1)
    # the curve of exactly the frames shown: frame picks[0] .. picks[-1] + STEP
    a, b = int(picks[0]), int(picks[-1]) + STEP
    s0, s1 = int(a * sr / FPS), int(b * sr / FPS)
    curve = speech_plot(wave[None, s0:s1], sr, crops.openness[a:b], crops.viseme[a:b], FPS, width=strip.shape[1])
    out = np.concatenate([strip, curve], 0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(out).save(path, quality=88)
    return path


if __name__ == "__main__":
    os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_media.fetch_models())
    print(main())
