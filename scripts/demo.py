"""`make demo`: the pack's main job on real sample media, through the real server's HTTP API.

Starts ComfyUI with the pack, puts the sample driving clip (sports2d demo.mp4) in its
input folder, runs the guidance preview (the clip's motion extracted, the head sphere
fitted, the 3D guide drawn over the clip), and prints where the mp4 is and the URL
of the server (`make serve`) to open.
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


def guidance_prompt(clip: str, frames: int) -> dict:
    """The demo's API prompt: the clip's motion extracted, head sphere fitted, and the
    dreamactor guide drawn over the clip and saved as an mp4 (node 'save')."""
    extract = {"person": 0, "hands": True, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0,
               "fill_gaps": 8}
    return {
        "load": {"class_type": "DreamActorLoadVideo",
                 "inputs": {"video": clip, "start_frame": 0, "frame_count": frames, "every_nth": 1, "fps": 0.0}},
        "skeleton": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **extract}},
        "head": {"class_type": "DreamActorHeadSphereFit",
                 "inputs": {"motion": ["skeleton", 0], "smoothing": 1.5, "max_hold": 12}},
        "guide": {"class_type": "DreamActorRenderGuide",
                  "inputs": {"motion": ["head", 0], "style": "dreamactor", "width": 832, "height": 480,
                             "fit": "contain", "start_frame": 0, "frame_count": 0,
                             "background": ["load", 0], "background_dim": 0.5}},
        "save": {"class_type": "DreamActorSaveVideo",
                 "inputs": {"video": ["guide", 1], "fps": 24.0,
                            "filename_prefix": "DreamActor/demo_guidance", "crf": 19}},
    }


def main() -> int:
    clip_path = fetch("demo.mp4")
    os.makedirs(OUT, exist_ok=True)
    print("starting ComfyUI with ComfyUI-DreamActor ...", flush=True)
    with ComfyServer() as server:
        clip = server.put_input(clip_path)
        prompt = guidance_prompt(clip, 90)
        t = time.time()
        try:
            entry = server.run(prompt, timeout=1800)
        except PromptError as e:
            print(f"the demo failed: {e}\nserver log: {server.log_path}", file=sys.stderr)
            return 1
        video = server.output_path(entry["outputs"]["save"]["images"][0])
        final = os.path.join(OUT, os.path.basename(video))
        shutil.copyfile(video, final)
        print(f"ran {', '.join(sorted(n['class_type'] for n in prompt.values()))} in {time.time() - t:.1f}s")
    print(f"\nopen the graph: `make serve`, then http://127.0.0.1:{os.environ.get('PORT', '8188')}/")
    print(f"output: {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
