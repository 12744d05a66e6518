"""`make demo`: the guidance-preview workflow on real sample media, through the real server's API.

Starts ComfyUI with the pack, puts the sample media the workflow names (the sports2d
clip demo.mp4 and the astronaut.png portrait) in its input folder, converts the FILE
workflows/guidance_preview.json into an API prompt with scripts/workflows/workflow_format.py
(tests/browser/test_workflows.py proves it equal to what the frontend queues), runs it,
copies its videos to demo-output/ and prints the URL where the same workflow opens in
the browser, then, last, the path of the dreamactor guide drawn over the clip.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import numpy as np

from scripts.demo.contact_sheet import contact_sheet, over_picture, video_frames  # noqa: E402
from scripts.harness.comfy_server import ROOT, ComfyServer, PromptError  # noqa: E402
from scripts.harness.fetch_media import MEDIA, fetch, fetch_models  # noqa: E402
from scripts.workflows.build_workflows import load, template_path  # noqa: E402
from scripts.workflows.workflow_format import to_api_prompt  # noqa: E402

OUT = os.path.join(ROOT, "demo-output")
WORKFLOW = "guidance_preview"
MAIN_OUTPUT = "Save: dreamactor guide"  # the title of the SaveVideo node whose mp4 is printed last


def media_names(workflow: dict) -> list[str]:
    """The sample media files the workflow's widgets name."""
    return sorted({v for n in workflow["nodes"] for v in n.get("widgets_values", []) if v in MEDIA})


def write_contact_sheet(saved: dict, faces: list[str], character: str, columns: int = 6) -> str:
    """demo-output/contact_sheet.jpg: the guide over the clip, the retargeted guide over the
    character, the face crops (README's picture is a copy)."""
    from PIL import Image

    picture = np.asarray(Image.open(character).convert("RGB"))
    retargeted = video_frames(saved["Save: wan-animate guide"], columns)
    if retargeted[0].shape == picture.shape:
        retargeted = over_picture(retargeted, picture)
    sheet = contact_sheet(
        [
            ("driving clip +\ndreamactor guide", video_frames(saved[MAIN_OUTPUT], columns)),
            ("retargeted to the\ncharacter\n(wan-animate guide)", retargeted),
            ("face crops", [np.asarray(Image.open(f).convert("RGB")) for f in faces[: columns + 2]]),
        ]
    )
    path = os.path.join(OUT, "contact_sheet.jpg")
    sheet.save(path, quality=88)
    return path


def main() -> int:
    workflow = load(WORKFLOW)
    paths = {name: fetch(name) for name in media_names(workflow)}
    fetch_models()  # MediaPipe's .task files into the host's models/mediapipe (no download by the node)
    os.makedirs(OUT, exist_ok=True)
    print(
        f"starting ComfyUI with ComfyUI-DreamActor; running workflows/{WORKFLOW}.json on {', '.join(paths)} ...",
        flush=True,
    )
    with ComfyServer() as server:
        for path in paths.values():
            server.put_input(path)
        prompt = to_api_prompt(workflow, server.get("/object_info"))
        t = time.time()
        try:
            entry = server.run(prompt, timeout=1800)
        except PromptError as e:
            print(f"the demo failed: {e}\nserver log: {server.log_path}", file=sys.stderr)
            return 1
        print(f"ran {len(prompt)} nodes in {time.time() - t:.1f}s")
        saved = {}
        for node_id, node in prompt.items():
            if node["class_type"] == "DreamActorSaveVideo":
                video = server.output_path(entry["outputs"][node_id]["images"][0])
                saved[node["_meta"]["title"]] = shutil.copy(video, os.path.join(OUT, os.path.basename(video)))
        faces = [
            server.output_path(image)
            for node_id, node in prompt.items()
            if node["_meta"]["title"] == "Face crops"
            for image in entry["outputs"][node_id]["images"]
        ]
        sheet = write_contact_sheet(saved, faces, paths["astronaut.png"])
    for title, path in saved.items():
        if title != MAIN_OUTPUT:
            print(f"{title}: {path}")
    port = os.environ.get("PORT", "8188")
    print(f"\nopen the same workflow: `make serve`, then http://127.0.0.1:{port}{template_path(WORKFLOW)}")
    print("(or drag workflows/guidance_preview.json onto the page; Templates lists the pack's workflows)")
    print(f"contact sheet: {sheet}")
    print(f"output: {saved[MAIN_OUTPUT]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
