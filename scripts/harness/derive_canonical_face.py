"""Re-derives the canonical face table of models/head/canonical_face.py from MediaPipe's face
mesh on the sample media and prints it (paste it over the table in that module).

    .venv/bin/python -m scripts.harness.derive_canonical_face
"""

import textwrap

import numpy as np
from PIL import Image

from models.extract.face_mesh import detect_faces_in_video  # noqa: E402
from models.head.canonical_face import derive_canonical_face, format_table  # noqa: E402
from models.io.video import ArrayVideo, FileVideo  # noqa: E402
from scripts.harness.fetch_media import fetch  # noqa: E402


def main() -> None:
    clips = []
    for name, step in (
        ("WolfgangLanger_Pexels.mp4", 2),
        ("single_face.mp4", 1),
        ("face_noface.mov", 1),
        ("astronaut.png", 1),
    ):
        if name.endswith(".png"):
            video = ArrayVideo(np.asarray(Image.open(fetch(name)).convert("RGB"))[None], 1.0)
        else:
            video = FileVideo(fetch(name))
        _, face3d, valid = detect_faces_in_video(video)
        clips.append(face3d[valid][::step].astype(np.float64))
    face, rigid = derive_canonical_face(clips, clips[0])
    print('_CANONICAL_FACE_TENTHS_MM = """')
    print(format_table(face))
    print('"""')
    listing = textwrap.fill(", ".join(str(i) for i in rigid), 96, initial_indent="    ", subsequent_indent="    ")
    print(f"RIGID_LANDMARKS = np.array([\n{listing},\n])")


if __name__ == "__main__":
    main()
