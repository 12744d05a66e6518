"""Speech -> face crops: the landmarker reads the warped mouths as the speech's curve, the
rest of the face stays as it was; real portrait (astronaut.png), espeak-ng speech."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models.core.errors import DreamActorError
from models.extract.face_mesh import FaceMeshDetector
from models.io.video import Audio
from models.speech.analysis import analyze_speech
from models.speech.mouth import mouth_opening, mouth_region
from models.speech.performance import as_face_track
from models.speech.sources import picture_crop, talking_picture
from scripts.harness.espeak_truth import SAMPLES, speak


@pytest.fixture(scope="module")
def picture(media):
    return np.asarray(Image.open(media("astronaut.png")).convert("RGB"))


@pytest.fixture(scope="module")
def spoken():
    voice, text = SAMPLES["Spanish"]
    wave, sr, _ = speak(text, voice)
    return Audio(wave[None], sr), analyze_speech(wave[None], sr, 25.0)


def test_landmarker_follows_the_curve_and_the_rest_stays(picture, spoken):
    audio, speech = spoken
    crops = talking_picture(picture, speech, audio, size=512, smoothing=0.0)
    still, pts = picture_crop(picture, 512)
    region = mouth_region(pts, 512)
    picks = np.arange(0, crops.num_frames, 3)  # 42 of 124 frames
    measured, outside = [], []
    with FaceMeshDetector(video_mode=False) as det:
        for k in picks:
            frame = crops.window(int(k), int(k) + 1)[0]
            lm = det.detect(frame)
            assert lm is not None, k
            measured.append(mouth_opening(lm.points2d))
            outside.append(np.abs(frame.astype(np.float64) - still)[~region].mean())
    r = np.corrcoef(measured, crops.openness[picks])[0, 1]
    assert r >= 0.9, r
    assert max(outside) < 2.0, max(outside)
    assert np.ptp(measured) > 0.08  # the mouth really moves (closed to open)


def test_face_track_over_the_crops_is_exact_and_carries_the_sound(picture, spoken):
    audio, speech = spoken
    crops = talking_picture(picture, speech, audio, size=256)
    face = as_face_track(crops)
    np.testing.assert_array_equal(face.crops(10, 14), crops.window(10, 14))
    assert face.num_frames == speech.num_frames
    assert crops.audio().waveform.shape[1] == round(speech.num_frames * audio.sample_rate / 25.0)


def test_a_picture_without_a_face_is_refused():
    with pytest.raises(DreamActorError, match="no face was found in the picture"):
        picture_crop(np.full((256, 256, 3), 128, np.uint8))
