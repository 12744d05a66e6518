"""DreamActor Sampler against the native chain, and its memory over long runs (tiny checkpoint, CPU).

Prints, measured side by side in this one run:

1. wall time of the DreamActor Sampler vs the host's native chain
   (WanAnimateToVideo -> KSampler -> TrimVideoLatent -> VAEDecode, chained per
   segment with continue_motion as users do) for the same frames, steps, seed:
   a) with face video: one 5-frame segment, 1 step, cfg 2 (the motion encoder
      is real-size: ~3 s per 512x512 crop on a small CPU);
   b) without the face path: 2 segments of 9 frames, 4 steps, cfg 2 (the DiT,
      the VAE, the guide rendering, hashing and the disk writes);
2. peak RSS of a process that samples and stitches 2 segments vs 20 segments
   (9-frame segments, 1 motion frame; precomputed per-frame face motion on the
   DA_FACE, as Face Encode with a MODEL gives it).

Timings are the best of ``--repeat`` alternating runs. Run: ``python -m benchmarks.bench_sampler``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

W, H = 96, 64


def _setup():
    from tests.unit import sampler_fixtures as fx  # host import, pack loader, tiny inputs

    sampler = fx.engine_module()
    core = fx.core_wan_nodes()
    host = fx.host_modules()
    return fx, sampler, core, host


def native_chain(
    fx, core, host, model, vae, pos, neg, ref, cvo, motion, face, n, length, motion_frames, seed, steps, cfg, with_face
):
    """The chain a user builds by hand: one WanAnimateToVideo + KSampler + decode per segment."""
    import numpy as np
    import torch

    from models.render.frames import render_frames

    pose = (
        torch.from_numpy(np.stack(list(render_frames(motion, 0, n, W, H, style="wan-animate", fit="cover")))).float()
        / 255
    )
    face_video = torch.from_numpy(face.crops(0, n)).float() / 255 if with_face else None
    offset, previous, frames = 0, None, []
    while offset < n or previous is None:
        out = core.WanAnimateToVideo.execute(
            pos,
            neg,
            vae,
            W,
            H,
            length,
            1,
            motion_frames,
            offset,
            reference_image=ref,
            clip_vision_output=cvo,
            face_video=face_video,
            pose_video=pose,
            continue_motion=previous,
        )
        c_pos, c_neg, latent, trim_latent, trim_image, offset = out.result
        image = host.sample.fix_empty_latent_channels(model, latent["samples"])
        noise = host.sample.prepare_noise(image, seed)
        samples = host.sample.sample(
            model, noise, steps, cfg, "euler", "simple", c_pos, c_neg, image, disable_pbar=True, seed=seed
        )
        decoded = vae.decode(samples[:, :, trim_latent:])
        decoded = decoded.reshape(-1, *decoded.shape[-3:])
        frames.append(decoded[trim_image:])
        previous = decoded
    return torch.cat(frames)[:n]


def time_pair(fx, sampler, core, host, model, vae, n, length, motion_frames, steps, with_face, repeat):
    import torch

    motion, face = fx.moving_person(n, image_size=(W, H)), fx.face_track(n)
    ref, cvo = fx.reference_image(W, H), fx.clip_vision()
    pos, neg = fx.text_conditioning(1, 64), fx.text_conditioning(2, 64)
    ours, theirs = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as root, torch.inference_mode():
            t = time.perf_counter()
            sampler.sample_segments(
                model,
                vae,
                pos,
                neg,
                ref,
                motion,
                face,
                1,
                steps,
                2.0,
                "euler",
                "simple",
                W,
                H,
                segment_length=length,
                motion_frames=motion_frames,
                face_strength=1.0 if with_face else 0.0,
                clip_vision_output=cvo,
                cache_root=root,
            )
            ours.append(time.perf_counter() - t)
        with torch.inference_mode():
            t = time.perf_counter()
            native_chain(
                fx,
                core,
                host,
                model,
                vae,
                pos,
                neg,
                ref,
                cvo,
                motion,
                face,
                n,
                length,
                motion_frames,
                1,
                steps,
                2.0,
                with_face,
            )
            theirs.append(time.perf_counter() - t)
    return min(ours), min(theirs)


def peak_mib() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_child(segments: int) -> None:
    """Sample and stream-stitch ``segments`` 9-frame segments; print the peak RSS (MiB) as JSON."""
    import importlib

    import numpy as np
    import torch

    fx, sampler, _, _ = _setup()
    from models.stitch.stitched_video import StitchedVideo

    n = 9 + 8 * (segments - 1)
    model, vae = fx.load_tiny("animate"), fx.load_tiny("vae")
    face = fx.face_track(n)
    face.tokens = np.random.default_rng(0).normal(size=(n, 512)).astype(np.float32)
    face.tokens_source = importlib.import_module(f"{fx.PACK_NAME}.nodes.face_motion").motion_source(model)
    before = peak_mib()
    with tempfile.TemporaryDirectory() as root, torch.inference_mode():
        handle, _ = sampler.sample_segments(
            model,
            vae,
            fx.text_conditioning(1, 64),
            fx.text_conditioning(2, 64),
            fx.reference_image(W, H),
            fx.moving_person(n, image_size=(W, H)),
            face,
            1,
            2,
            2.0,
            "euler",
            "simple",
            W,
            H,
            segment_length=9,
            motion_frames=1,
            cache_root=root,
        )
        frames = sum(1 for _ in StitchedVideo(handle.folder).iter_frames())
    peak = peak_mib()
    print(json.dumps({"segments": segments, "frames": frames, "peak_mib": peak, "after_setup_mib": before}))


def peak_rss(segments: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_sampler", "--rss-child", str(segments)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs per variant (best is kept)")
    parser.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return 0

    small, large = peak_rss(2), peak_rss(20)  # first, in fresh processes
    fx, sampler, core, host = _setup()
    model, vae = fx.load_tiny("animate"), fx.load_tiny("vae")
    print(f"tiny Wan-Animate (fp32, CPU, {torch_threads()} threads), {W}x{H}, euler/simple, cfg 2")
    ours, theirs = time_pair(fx, sampler, core, host, model, vae, 5, 5, 1, 1, True, 1)
    print(
        f"with face video, 5 frames, 1 segment, 1 step: sampler {ours:.1f} s, native chain {theirs:.1f} s, "
        f"ratio {ours / theirs:.2f}"
    )
    ours, theirs = time_pair(fx, sampler, core, host, model, vae, 17, 9, 1, 4, False, args.repeat)
    print(
        f"no face path, 17 frames, 2 segments, 4 steps: sampler {ours:.2f} s, native chain {theirs:.2f} s, "
        f"ratio {ours / theirs:.2f}"
    )
    print(
        f"peak RSS, sample + stitch: {small['segments']} segments ({small['frames']} frames) "
        f"{small['peak_mib']:.0f} MiB, {large['segments']} segments ({large['frames']} frames) "
        f"{large['peak_mib']:.0f} MiB, ratio {large['peak_mib'] / small['peak_mib']:.3f} "
        f"(after imports and loading: {small['after_setup_mib']:.0f} / {large['after_setup_mib']:.0f} MiB)"
    )
    return 0


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
