"""`make demo`: the pack's main job on real sample media, through the real server's HTTP API.

Starts ComfyUI with the pack, puts the sample driving clip (sports2d demo.mp4) and the
reference photo (astronaut.png) in its input folder, runs the guidance preview
(the driving clip's motion extracted, fitted and rendered as guides), and prints
where the mp4 is and the URL where the graph can be opened.
"""
from __future__ import annotations

import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from comfy_server import ComfyServer, PromptError  # noqa: E402
from fetch_media import fetch  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "demo-output")


def guidance_prompt(clip: str, frames: int, available: set[str]) -> tuple[dict, str]:
    """The API prompt of the demo and the id of the node whose mp4 is the result.

    Uses the guidance-preview chain when this version of the pack has it, else the
    I/O chain (clip -> streamed mp4) so the demo always runs end to end.
    """
    prompt = {
        "load": {"class_type": "DreamActorLoadVideo",
                 "inputs": {"video": clip, "start_frame": 0, "frame_count": frames, "every_nth": 1, "fps": 0.0}},
    }
    if {"DreamActorSkeletonExtract", "DreamActorRenderGuide"} <= available:
        prompt["skeleton"] = {"class_type": "DreamActorSkeletonExtract",
                              "inputs": {"video": ["load", 0], "person": 0, "hands": True, "face": True,
                                         "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}}
        motion = ["skeleton", 0]
        if "DreamActorHeadSphereFit" in available:
            prompt["head"] = {"class_type": "DreamActorHeadSphereFit",
                              "inputs": {"motion": motion, "smoothing": 1.5, "max_hold": 12}}
            motion = ["head", 0]
        prompt["guide"] = {"class_type": "DreamActorRenderGuide",
                           "inputs": {"motion": motion, "style": "dreamactor", "width": 832, "height": 480,
                                      "fit": "contain", "start_frame": 0, "frame_count": 0,
                                      "background": ["load", 0], "background_dim": 0.5}}
        prompt["save"] = {"class_type": "DreamActorSaveVideo",
                          "inputs": {"video": ["guide", 1], "fps": 24.0,
                                     "filename_prefix": "DreamActor/demo_guidance", "crf": 19}}
    else:
        prompt["save"] = {"class_type": "DreamActorSaveVideo",
                          "inputs": {"video": ["load", 0], "fps": 24.0,
                                     "filename_prefix": "DreamActor/demo_clip", "crf": 19}}
    return prompt, "save"


def main() -> int:
    clip_path = fetch("demo.mp4")
    fetch("astronaut.png")
    os.makedirs(OUT, exist_ok=True)
    print("starting ComfyUI with ComfyUI-DreamActor ...", flush=True)
    with ComfyServer() as server:
        clip = server.put_input(clip_path)
        server.put_input(fetch("astronaut.png"))
        available = set(server.get("/object_info"))
        prompt, result_node = guidance_prompt(clip, 90, available)
        t = time.time()
        try:
            entry = server.run(prompt, timeout=1800)
        except PromptError as e:
            print(f"the demo failed: {e}\nserver log: {server.log_path}", file=sys.stderr)
            return 1
        video = server.output_path(entry["outputs"][result_node]["images"][0])
        final = os.path.join(OUT, os.path.basename(video))
        shutil.copyfile(video, final)
        print(f"ran {', '.join(sorted(n['class_type'] for n in prompt.values()))} in {time.time() - t:.1f}s")
    print(f"\nopen the graph: `make serve`, then http://127.0.0.1:{os.environ.get('PORT', '8188')}/")
    print(f"output: {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
