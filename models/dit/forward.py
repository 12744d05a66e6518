"""DreamActor's DiT forward over the host's Wan-Animate modules.

DreamActor-M1's design maps onto Wan2.2-Animate-14B, which the host loads as
``AnimateWanModel`` (comfy/ldm/wan/model_animate.py). This module reuses that
model's own sub-modules (patch embeddings, blocks, face adapter, head; duck-typed,
ComfyUI is never imported here) and changes only what DreamActor needs:

- **Face Attn from precomputed tokens.** The host turns 512x512 face crops into
  tokens inside every model call (motion encoder per frame -> temporal face
  encoder). Here that is split: :func:`encode_face_motion` (per frame, the
  expensive conv net; cache it per video) and :func:`face_tokens_from_motion`
  (per window: the face encoder is a causal temporal conv), and the forward takes
  the tokens.
- **Per-signal strengths.** ``face_strength`` scales the face-adapter residual
  after every 5th block; ``pose_strength`` scales the pose path (the
  ``pose_patch_embedding`` of the pose-video latent added to the patch tokens).
- **k reference frames (Ref Attn).** The host prepends one reference latent frame
  in time (WanAnimateToVideo: concat image + mask mark it known) and so shifts
  pose by one frame and pads the face tokens with one zero frame. Here the first
  ``num_references`` latent frames are references: pose starts after them and
  the face tokens get that many zero frames; self-attention sees all of them.

With ``face_strength == pose_strength == 1`` and one reference the forward is the
host's forward; with k references it is the host's forward with its pose and face
offsets at frame k (tests/unit/test_forward_host_patches.py runs the host's own
AnimateWanModel both ways, with patches, and checks it to 1e-5 in fp32).

Patches after each block (``patches['double_block']``: Uni3C-style) receive what the
newest core's Wan models pass: ``x`` the video part of the input (the frames after the
k references) and ``img_offset`` the references' token count, as core's Wan-Animate-2
does for its one reference slot. Core's own Wan-Animate forward calls none of them.

Shapes: B batch, C_in latent+concat channels (36 for Animate: 16 noise + 4 mask +
16 image), T latent frames incl. the references, H, W latent size, D model width,
F face frames (video frames), T_f face-token frames, N face tokens per frame (5:
4 heads + 1 padding token), L sequence length (T * H/2 * W/2).
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..core.errors import DreamActorError

# ---------------------------------------------------------------- constants

#: model_conds key that carries face tokens (B, T_f, N, D) per conditioning
FACE_TOKENS_KEY = "dreamactor_face_tokens"
#: the host's wrapper type comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL
DIFFUSION_MODEL_WRAPPER = "diffusion_model"
#: our key among the patcher's wrappers (installing twice replaces, never stacks)
WRAPPER_KEY = "dreamactor"
#: the face adapter follows blocks 0, 5, 10, ... (fuser block i // 5)
FACE_ADAPTER_EVERY = 5
#: frames per motion-encoder call (the host uses 8)
FACE_ENCODE_BATCH = 8
#: sub-modules only Wan-Animate has
ANIMATE_MODULES = ("pose_patch_embedding", "motion_encoder", "face_encoder", "face_adapter")
#: the Wan DiT parts the forward calls
WAN_PARTS = (
    "patch_embedding",
    "time_embedding",
    "time_projection",
    "text_embedding",
    "blocks",
    "head",
    "unpatchify",
    "rope_encode",
)
#: keywords the forward passes to each block (as the host's forward_orig does)
BLOCK_KWARGS = ("e", "freqs", "context", "context_img_len", "transformer_options")
#: model kwargs the host's Wan-Animate forward reads or ignores: ``control`` and
#: ``crossattn_controlnet`` (ControlNet inputs: core's Wan forward ignores them) and
#: ``reference_latent`` (read only by Wan models with a ``ref_conv``, which Animate has not);
#: pose and face are ours to read
HOST_KWARGS = ("control", "crossattn_controlnet", "reference_latent", "pose_latents", "face_pixel_values")
#: what the user needs when their MODEL is not Wan-Animate
ANIMATE_FILE = "wan2.2_animate_14B_bf16.safetensors"
ANIMATE_FOLDER = "ComfyUI/models/diffusion_models"


@dataclass(frozen=True)
class DreamActorSettings:
    """Per-run knobs of the DreamActor forward (constant over a sampling run)."""

    face_strength: float = 1.0  # scale of the Face Attn residual; 0 = no face adapter
    pose_strength: float = 1.0  # scale of the pose-latent path; 0 = no pose
    num_references: int = 1  # leading latent frames that are reference images

    def __post_init__(self):
        if self.num_references < 1:
            raise DreamActorError(f"num_references is {self.num_references}", fix="use at least one reference image")
        for name in ("face_strength", "pose_strength"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise DreamActorError(f"{name} is {value}", fix=f"set {name} to a number >= 0", input=name)


# ---------------------------------------------------------------- the model


def diffusion_model_of(model):
    """The DiT module inside a ModelPatcher (``.model.diffusion_model``), a BaseModel, or itself."""
    inner = getattr(model, "model", model)
    return getattr(inner, "diffusion_model", inner)


def _accepts(fn, names) -> bool:
    """Whether callable ``fn`` takes every keyword in ``names`` (or any keyword, ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return True
    return set(names) <= {p.name for p in params}


def missing_behaviour(dm) -> list[str]:
    """What the DreamActor forward calls on ``dm`` and does not find (empty for Wan-Animate):
    the Animate sub-modules, the Wan DiT parts and the keyword arguments it passes them."""
    missing = [m for m in ANIMATE_MODULES if getattr(dm, m, None) is None]
    missing += [m for m in WAN_PARTS if getattr(dm, m, None) is None]
    if missing:
        return missing
    if not callable(getattr(dm.motion_encoder, "get_motion", None)):
        missing.append("motion_encoder.get_motion")
    if not _accepts(dm.rope_encode, ("device", "dtype", "transformer_options")):
        missing.append("rope_encode(transformer_options=...)")
    if not len(dm.blocks) or not _accepts(dm.blocks[0].forward, BLOCK_KWARGS):
        missing.append(f"blocks taking {', '.join(BLOCK_KWARGS)}")
    if len(getattr(dm.face_adapter, "fuser_blocks", ())) < math.ceil(len(dm.blocks) / FACE_ADAPTER_EVERY):
        missing.append(f"one face_adapter.fuser_blocks entry per {FACE_ADAPTER_EVERY} blocks")
    return missing


def check_is_wan_animate(model):
    """Return the AnimateWanModel inside ``model``; raise DreamActorError if it is not one.

    Checked by behaviour, not by class name (a GGUF or patched copy of the model passes):
    the modules the DreamActor forward calls and the keyword arguments it passes them.
    """
    dm = diffusion_model_of(model)
    missing = missing_behaviour(dm)
    if not missing:
        return dm
    kind = type(getattr(model, "model", model)).__name__
    variant = getattr(dm, "model_type", None)
    found = f"{kind} ({variant})" if variant else kind
    raise DreamActorError(
        f"MODEL is {found}, not Wan2.2-Animate (it lacks {', '.join(missing)})",
        fix=(
            f"download {ANIMATE_FILE} (Wan2.2-Animate-14B; an fp8 or GGUF copy works too), put it in "
            f"{ANIMATE_FOLDER} and load it with 'Load Diffusion Model'"
        ),
        input="model",
    )


# ---------------------------------------------------------------- Face Attn inputs


def encode_face_motion(dm, face_pixels: torch.Tensor) -> torch.Tensor:
    """Per-frame implicit face motion from aligned face crops.

    face_pixels: (B, 3, F, 512, 512) in [-1, 1] (the host's motion encoder needs 512x512).
    Returns (B, F, 512). Frames are independent: encode a video once, slice windows.
    """
    b, _, f = face_pixels.shape[:3]
    frames = face_pixels.movedim(2, 1).flatten(0, 1)  # (B*F, 3, 512, 512), frame-major per batch
    motion = [
        dm.motion_encoder.get_motion(frames[i : i + FACE_ENCODE_BATCH])
        for i in range(0, frames.shape[0], FACE_ENCODE_BATCH)
    ]
    return torch.cat(motion).unflatten(0, (b, f))


def face_tokens_from_motion(dm, motion: torch.Tensor) -> torch.Tensor:
    """Face tokens of one window: (B, F, 512) -> (B, T_f, N, D), T_f = ceil(F / 4).

    The face encoder is a causal temporal conv (stride 4), so compute it per window.
    """
    return dm.face_encoder(motion)


def encode_face(dm, face_pixels: torch.Tensor) -> torch.Tensor:
    """Face crops of one window (B, 3, F, 512, 512) -> face tokens (B, T_f, N, D)."""
    return face_tokens_from_motion(dm, encode_face_motion(dm, face_pixels))


def align_face_tokens(tokens: torch.Tensor, num_references: int, num_frames: int) -> torch.Tensor:
    """One token frame per latent frame: (B, T_f, N, D) -> (B, T, N, D).

    Reference frames get zero tokens (as the host does for its one reference);
    missing tail frames get zeros, extra token frames are dropped.
    """
    b, t_f, n, d = tokens.shape
    lead = tokens.new_zeros(b, num_references, n, d)
    tail = tokens.new_zeros(b, max(0, num_frames - num_references - t_f), n, d)
    return torch.cat([lead, tokens, tail], dim=1)[:, :num_frames]


# ---------------------------------------------------------------- embeddings


def pad_to_patch(x: torch.Tensor, patch_size) -> torch.Tensor:
    """Circular-pad the trailing dims of (B, C, T, H, W) up to multiples of ``patch_size``."""
    pad = ()
    for i, p in enumerate(patch_size):
        pad = (0, (p - x.shape[i + 2] % p) % p) + pad
    return F.pad(x, pad, mode="circular") if any(pad) else x


def embed_patches(dm, x: torch.Tensor, pose_latents, settings: DreamActorSettings) -> torch.Tensor:
    """Patch tokens with the pose path: (B, C_in, T, H, W) -> (B, D, T, H/2, W/2).

    pose_latents (B, 16, T_p, H, W), one latent frame per generated frame, is added
    (times ``pose_strength``) to the frames after the references.
    """
    patches = dm.patch_embedding(x.float()).to(x.dtype)
    if pose_latents is None or settings.pose_strength == 0:
        return patches
    k = settings.num_references
    pose = dm.pose_patch_embedding(pose_latents)
    n = max(0, min(pose.shape[2], patches.shape[2] - k))
    if settings.pose_strength != 1:
        pose = pose * settings.pose_strength
    patches[:, :, k : k + n] += pose[:, :, :n]
    return patches


def sinusoidal_embedding(dim: int, position: torch.Tensor) -> torch.Tensor:
    """(N,) timesteps -> (N, dim) [cos | sin] features, as the Wan DiT expects."""
    half = dim // 2
    position = position.type(torch.float32)
    freqs = torch.pow(10000, -torch.arange(half).to(position).div(half))
    angles = torch.outer(position, freqs)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def time_embeddings(dm, timestep: torch.Tensor, dtype):
    """timestep (B,) or (B, T) -> e (B, 1|T, D) for the head, e0 (B, 1|T, 6, D) for the blocks."""
    e = dm.time_embedding(sinusoidal_embedding(dm.freq_dim, timestep.flatten()).to(dtype=dtype))
    e = e.reshape(timestep.shape[0], -1, e.shape[-1])
    e0 = dm.time_projection(e).unflatten(2, (6, dm.dim))
    return e, e0


def context_embeddings(dm, context: torch.Tensor, clip_fea):
    """Text (B, L_t, 4096) [+ CLIP vision (B, 257, 1280)] -> (B, [257 +] L_t, D), image length."""
    context = dm.text_embedding(context)
    if clip_fea is None:
        return context, None
    if getattr(dm, "img_emb", None) is not None:
        context = torch.concat([dm.img_emb(clip_fea), context], dim=1)
    return context, clip_fea.shape[-2]


# ---------------------------------------------------------------- blocks


def run_block(dm, i: int, x, e0, freqs, context, context_img_len, transformer_options):
    """Block ``i`` of the DiT, honouring the host's ``patches_replace['dit']`` block patches."""
    block = dm.blocks[i]
    replace = transformer_options.get("patches_replace", {}).get("dit", {})
    if ("double_block", i) not in replace:
        return block(
            x,
            e=e0,
            freqs=freqs,
            context=context,
            context_img_len=context_img_len,
            transformer_options=transformer_options,
        )

    def original(args):
        return {
            "img": block(
                args["img"],
                context=args["txt"],
                e=args["vec"],
                freqs=args["pe"],
                context_img_len=context_img_len,
                transformer_options=args["transformer_options"],
            )
        }

    args = {"img": x, "txt": context, "vec": e0, "pe": freqs, "transformer_options": transformer_options}
    return replace[("double_block", i)](args, {"original_block": original})["img"]


def face_residual(dm, i: int, x: torch.Tensor, face: torch.Tensor, strength: float) -> torch.Tensor:
    """Face Attn after block ``i``: x (B, L, D) + strength * adapter(x, face (B, T, N, D))."""
    out = dm.face_adapter.fuser_blocks[i // FACE_ADAPTER_EVERY](x, face)
    return x + (out if strength == 1 else strength * out)


def after_block_patches(x, i: int, video_input, img_offset: int, e, transformer_options):
    """The host's ``patches['double_block']`` after block ``i`` (newer cores: Uni3C, block-indexed
    patches), with the arguments the newest core's Wan models pass: ``x`` is the video part of
    the model input and ``img_offset`` the number of tokens in front of its tokens in ``img``
    (core's Wan-Animate-2 forward: one reference slot, ``x[:, :, 1:]`` and one frame of tokens).
    """
    for patch in transformer_options.get("patches", {}).get("double_block", ()):
        args = {"img": x, "x": video_input, "vec": e, "block_index": i, "img_offset": img_offset}
        x = patch(dict(args, transformer_options=transformer_options))["img"]
    return x


def run_blocks(dm, x, e, e0, freqs, context, context_img_len, face, settings, transformer_options, x_input):
    """All blocks; Face Attn after every 5th when ``face`` tokens (B, T, N, D) are given.

    As the newest host's block loop: ``transformer_options`` carries ``total_blocks``,
    ``block_type`` and the running ``block_index``; ``patches_replace['dit']`` may replace
    a block and ``patches['double_block']`` run after each (after its Face Attn).
    x_input (B, C_in, T, H, W) is the padded model input; the patches receive its frames
    after the k references and, as ``img_offset``, the k reference frames' token count.
    """
    k = settings.num_references
    grid = transformer_options["grid_sizes"]
    video_input, img_offset = x_input[:, :, k:], k * grid[1] * grid[2]
    use_face = face is not None and settings.face_strength != 0
    transformer_options["total_blocks"] = len(dm.blocks)
    transformer_options["block_type"] = "double"
    for i in range(len(dm.blocks)):
        transformer_options["block_index"] = i
        x = run_block(dm, i, x, e0, freqs, context, context_img_len, transformer_options)
        if use_face and i % FACE_ADAPTER_EVERY == 0:
            x = face_residual(dm, i, x, face, settings.face_strength)
        x = after_block_patches(x, i, video_input, img_offset, e, transformer_options)
    return x


# ---------------------------------------------------------------- forward


def dreamactor_forward(
    dm,
    x,
    timestep,
    context,
    clip_fea=None,
    time_dim_concat=None,
    face_tokens=None,
    pose_latents=None,
    settings: DreamActorSettings = DreamActorSettings(),
    transformer_options=None,
):
    """The Wan-Animate DiT with DreamActor's Ref/Face/pose handling.

    x: (B, C_in, T, H, W) noisy latent with the concat channels, the first
    ``settings.num_references`` frames being the references; timestep (B,);
    context (B, L_t, 4096); clip_fea (B, 257, 1280) or None; face_tokens
    (B, T_f, N, D) or None; pose_latents (B, 16, T - k, H, W) or None.
    Returns the model output (B, 16, T, H, W) for every frame, references included.
    """
    transformer_options = transformer_options if transformer_options is not None else {}
    _, _, t, h, w = x.shape
    x = pad_to_patch(x, dm.patch_size)
    t_len = t
    if time_dim_concat is not None:
        x = torch.cat([x, pad_to_patch(time_dim_concat, dm.patch_size)], dim=2)
        t_len = x.shape[2]
    freqs = dm.rope_encode(t_len, h, w, device=x.device, dtype=x.dtype, transformer_options=transformer_options)

    patches = embed_patches(dm, x, pose_latents, settings)
    grid = patches.shape[2:]
    transformer_options["grid_sizes"] = grid  # as the newest host sets it for its patches
    face = None
    if face_tokens is not None and settings.face_strength != 0:
        face = align_face_tokens(face_tokens.to(patches.dtype), settings.num_references, grid[0])
    tokens = patches.flatten(2).transpose(1, 2)  # (B, L, D)

    e, e0 = time_embeddings(dm, timestep, tokens.dtype)
    context, context_img_len = context_embeddings(dm, context, clip_fea)
    tokens = run_blocks(dm, tokens, e, e0, freqs, context, context_img_len, face, settings, transformer_options, x)
    out = dm.unpatchify(dm.head(tokens, e), grid)
    return out[:, :, :t, :h, :w]


# ---------------------------------------------------------------- installing on a MODEL


class DreamActorWrapper:
    """A DIFFUSION_MODEL wrapper that makes :func:`dreamactor_forward` the model call.

    It does not cut the host's wrapper chain: the wrappers after it (e.g. a TeaCache-style
    cache added to the MODEL) still run, through a new host executor (the ``executor``'s
    own class, duck-typed) whose innermost call is the DreamActor forward instead of the
    host's ``_forward``; the wrappers before it have already run. Face tokens come per
    conditioning through ``model_conds[FACE_TOKENS_KEY]``; without them, host-style
    ``face_video_pixels`` conditioning is encoded here. A model input it does not know
    is refused (:func:`check_model_kwargs`), never dropped.
    """

    def __init__(self, settings: DreamActorSettings):
        self.settings = settings

    def __call__(
        self, executor, x, timestep, context, clip_fea=None, time_dim_concat=None, transformer_options=None, **kwargs
    ):
        dm = executor.class_obj
        inner = type(executor).new_class_executor(
            functools.partial(self.forward, dm), dm, executor.wrappers, idx=executor.idx + 1
        )
        return inner.execute(x, timestep, context, clip_fea, time_dim_concat, transformer_options, **kwargs)

    def forward(
        self, dm, x, timestep, context, clip_fea=None, time_dim_concat=None, transformer_options=None, **kwargs
    ):
        """The innermost call of the chain on the DiT ``dm`` (in place of the host's ``_forward``)."""
        check_model_kwargs(kwargs)
        tokens = kwargs.get(FACE_TOKENS_KEY)
        if tokens is None and kwargs.get("face_pixel_values") is not None and self.settings.face_strength != 0:
            tokens = encode_face(dm, kwargs["face_pixel_values"])
        return dreamactor_forward(
            dm,
            x,
            timestep,
            context,
            clip_fea=clip_fea,
            time_dim_concat=time_dim_concat,
            face_tokens=tokens,
            pose_latents=kwargs.get("pose_latents"),
            settings=self.settings,
            transformer_options=transformer_options,
        )


def check_model_kwargs(kwargs: dict) -> None:
    """Refuse model inputs the DreamActor forward would drop: an extra conditioning another
    node put on the MODEL or CONDITIONING (e.g. a newer core's Wan input) must not be
    silently ignored. ``None`` values are nobody's input and pass."""
    unknown = sorted(k for k, v in kwargs.items() if v is not None and k not in HOST_KWARGS + (FACE_TOKENS_KEY,))
    if unknown:
        raise DreamActorError(
            f"the diffusion model was given {', '.join(repr(k) for k in unknown)}, which the DreamActor "
            "forward does not use",
            fix="remove the node that adds it to the MODEL or the conditioning (the DreamActor Sampler "
            "builds the Wan-Animate conditioning itself), or sample it with core KSampler",
            input="model",
        )


def install_dreamactor(patcher, settings: DreamActorSettings):
    """A clone of ``patcher`` (a ModelPatcher) that runs the DreamActor forward.

    The user's MODEL is never touched: the clone has its own wrapper table. The
    wrapper replaces only the innermost DiT call: the other DIFFUSION_MODEL wrappers
    on the MODEL, before or after it, still run.
    """
    check_is_wan_animate(patcher)
    clone = patcher.clone()
    clone.remove_wrappers_with_key(DIFFUSION_MODEL_WRAPPER, WRAPPER_KEY)
    clone.add_wrapper_with_key(DIFFUSION_MODEL_WRAPPER, WRAPPER_KEY, DreamActorWrapper(settings))
    return clone


def attach_face_tokens(conditioning: list, tokens: torch.Tensor, wrap) -> list:
    """New CONDITIONING whose entries carry ``tokens`` (B, T_f, N, D) to the model.

    ``wrap`` is the host's ``comfy.conds.CONDRegular``; other model_conds are kept.
    """
    out = []
    for embedding, extras in conditioning:
        extras = dict(extras)
        model_conds = dict(extras.get("model_conds", {}))
        model_conds[FACE_TOKENS_KEY] = wrap(tokens)
        extras["model_conds"] = model_conds
        out.append([embedding, extras])
    return out
