"""The DiT side that needs no ComfyUI import: DreamActor's forward over the host's Wan-Animate
modules (precomputed face tokens, several references, per-signal strengths), the conditioning
tensors, segment planning for long videos, the per-segment pictures, the on-disk segment cache
(``DA_SEGMENTS``) and pseudo multi-references. The sampling loop itself lives host-side in
``nodes/engine/``."""
