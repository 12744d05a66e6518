"""Skeleton Extract's account of the people it found: the numbered boxes on the first preview
frame, the line of text saying who was taken and how to choose another, and the boxes sent to
the editor (web/js/person_picker.js turns a click on a box into the ``person`` number)."""

from __future__ import annotations

import numpy as np

from ..models.render.people_boxes import draw_people, scale_boxes

UI_KEY = "dreamactor_people"
"""The key of the node's UI output read by web/js/person_picker.js."""


def people_found(motion) -> tuple[np.ndarray, int, int] | None:
    """(boxes (N, 4) xyxy px counted from the left, index followed, frame) when the extraction
    found several people; None for one person (or a motion from an older version)."""
    boxes = motion.get("people_boxes")
    if boxes is None or len(boxes) < 2 or motion.get("person_index") is None:
        return None
    return np.asarray(boxes, np.float64), int(motion.get("person_index")), int(motion.get("people_frame", 0))


def mark_people(preview: np.ndarray, motion) -> np.ndarray:
    """``preview`` (n, h, w, 3) uint8 whose first frame is the frame the person was chosen on:
    that frame with everyone's numbered box."""
    found = people_found(motion)
    if found is None:
        return preview
    boxes, chosen, _ = found
    h, w = preview.shape[1:3]
    out = preview.copy()
    out[0] = draw_people(preview[0], scale_boxes(boxes, motion.image_size, (w, h)), chosen)
    return out


def people_line(motion, person: int) -> str:
    """Who was taken among the people found and how to choose another ('' for one person)."""
    found = people_found(motion)
    if found is None:
        return ""
    boxes, chosen, frame = found
    n = len(boxes)
    why = "the most prominent: large and near the centre" if person == 0 else f"'person' is {person}"
    where = f" on frame {frame}" if motion.num_frames > 1 else ""
    return (
        f"{n} people found{where}; took #{chosen + 1} ({why}). Set 'person' to 1-{n} to choose another, "
        "counted from the left, or click a box in the preview; 0 = the most prominent."
    )


def people_ui(motion, person: int) -> dict:
    """The UI output for the editor: boxes as fractions of the picture (x0, y0, x1, y1), the
    preview image they are drawn on, the number taken and the ``person`` value that took it."""
    found = people_found(motion)
    if found is None:
        return {UI_KEY: []}
    boxes, chosen, _ = found
    W, H = motion.image_size
    rel = np.clip(boxes, 0, [W - 1, H - 1] * 2) / np.array([W, H, W, H], np.float64)  # inside the picture
    entry = {"image": 0, "boxes": np.round(rel, 5).tolist(), "taken": chosen + 1, "person": int(person)}
    return {UI_KEY: [entry]}
