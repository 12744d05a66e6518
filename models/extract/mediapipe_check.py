"""Is a usable MediaPipe installed? One clear message with the fix, instead of an import error.

The pack needs MediaPipe's Tasks API (``mediapipe.tasks.python.vision`` with Pose, Hand and
Face Landmarker), MediaPipe 1.2 or later. Two ways it goes wrong on users' ComfyUI: an old
release (0.10.x, often pinned by another pack, with numpy < 2), or a broken install (another
pack's requirements overwrote part of it, or its native library does not load).
"""

from __future__ import annotations

MIN_VERSION = (1, 2)
FIX = (
    'run "python -m pip install -U "mediapipe>=1.2,<2"" with ComfyUI\'s own Python '
    "(portable: python_embeded\\python.exe -m pip ...), then restart ComfyUI"
)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for p in str(text).split(".")[:3]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def mediapipe_problem() -> str | None:
    """None when MediaPipe's Tasks API imports and is new enough; else what is wrong."""
    try:
        import mediapipe
    except Exception as e:  # missing, or its native part fails to load
        return f"MediaPipe cannot be imported ({type(e).__name__}: {e})"
    version = getattr(mediapipe, "__version__", "unknown")
    try:
        from mediapipe.tasks.python import vision

        missing = [n for n in ("PoseLandmarker", "HandLandmarker", "FaceLandmarker") if not hasattr(vision, n)]
    except Exception as e:
        return f"MediaPipe {version} is installed but its Tasks API does not load ({type(e).__name__}: {e})"
    if missing:
        return f"MediaPipe {version} lacks {', '.join(missing)} (a broken or partial install)"
    if _version_tuple(version) < MIN_VERSION:
        return f"MediaPipe {version} is too old: the pack needs 1.2 or later"
    return None
