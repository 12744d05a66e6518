"""Real-size GPU check: DreamActor Sampler vs the native WanAnimateToVideo + KSampler chain.

Steps, each its own process that resumes from the previous step's files in the cache folder
(``.cache/gpu_realsize/<spec hash>/``), each well inside 10 minutes on one H200:

``build [--formats bf16,fp8]``
    draws a random-weight Wan2.2-Animate-14B in the real layout and dimensions (dim 5120,
    40 layers, ffn 13824, 1441 tensors) and a real-size Wan 2.1 VAE on the GPU, writes the DiT as
    bf16 (34.5 GB), converts it on the GPU to Comfy-Org's ``*_fp8_e4m3fn_scaled`` layout
    (blocks' weights float8_e4m3fn with a per-tensor ``scale_weight``, the ``scaled_fp8``
    marker) and writes that (18.4 GB). Both need ~50 GiB of free disk; a file already built is
    skipped.
``compare --format bf16|fp8``
    loads the files through the host's loaders (Load Diffusion Model / Load VAE), then on the
    same inputs at 832x480, one 77-frame window, 3 steps, cfg 1, face path on: the native chain
    and the DreamActor Sampler, each from an unloaded model. Prints seconds per step (the first
    step left out), peak VRAM and peak RAM of each and their ratios, and how far the Sampler's
    latent and frames are from the native chain's.
``offload``
    caps the GPU at ``--vram-cap`` GiB (16) free, so the host loads part of the bf16 DiT and
    streams the rest (host.cap_vram says why it must), and runs a three-segment take (33-frame
    segments, 5 carried: 89 frames, face path on). Checks the peak VRAM of segments 2 and 3 is
    within 5 % of segment 1's, the DiT was only partly on the GPU, and the frame count.
``clean --formats F``
    deletes a DiT file (a 64 GiB disk holds one format with room to spare).
``report``
    prints every finished step's figures side by side.
``all``
    runs build bf16, compare bf16, offload, clean bf16, build fp8, compare fp8 and report, each in
    a fresh process (the fp8 build draws the same weights again on the GPU: seconds).

Every step prints as it measures, writes ``<cache>/results/<step>.json`` and exits 1 when a check
fails. ``--dry-run`` runs the same code on the CPU at reduced width and depth (dim 256, 5 layers,
VAE width 8, 64x48; compare on 1-frame windows; the take with its face motion given per frame as
Face Encode gives it, since the real-size motion encoder takes seconds per crop on a CPU) and
checks its values (the two chains agree to 1e-3 of the latent's std, outputs finite, figures
present, 3 segments, exact frame count); tests/unit/test_gpu_realsize_dry_run.py runs it.
"""
