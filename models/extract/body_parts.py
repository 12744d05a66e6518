"""The tracked person's hands and face, found around each frame's body; hands on a second thread.

Once frame t's body is known (``models.extract.tracking``), the hand models
(``models.extract.hands``: a crop per wrist) and the face model (``models.extract.face_mesh``
on a crop around the body's head, so the small faces of full-body shots are found) need only
that frame and that body, and the body tracker's next frame needs nothing from them. So the
hands run on a worker thread, a few frames behind the body: MediaPipe's calls release the GIL
and each model runs on about one core, so with two cores free the walk takes about as long
as the slower thread instead of the sum. The face stays on the caller's thread, after the
body: that balances the two (on sports2d at 720p about 22 ms/frame of body + face against
20 of hands; the face on the worker too measured 36 against 42 frames/s).
``benchmarks/bench_extract.py`` prints the pipeline threaded and on one thread. Frames reach
the worker in order, so the VIDEO-mode hand trackers see the same sequence as on one thread,
and the hands found are the same.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from ..core.roi import SquareCrop, StickyWindow
from .body_mapping import MP
from .hands import SIDES, HandPair
from .landmarkers import PoseResult

HEAD_BOX_METRES = 0.26
"""Side of the head box handed to the face model (it crops 3x around it)."""
HEAD_SHIFT = 0.1
"""While a face is tracked, its crop (3x the head box) is kept until the head moves
this much of the head box: a still crop keeps MediaPipe's face tracker steady
(``roi.StickyWindow``). While searching, the crop is centred on the head."""
FACE_GATE_METRES = 0.15
"""A face mesh counts only if its centre is this close to the body's nose."""
QUEUE_FRAMES = 4
"""Frames waiting for the worker at most (each a decoded frame held in memory)."""


def head_window(pose: PoseResult, px_per_metre: float) -> SquareCrop:
    """A head-sized square around the pose's face points (nose, eyes, ears, mouth)."""
    return SquareCrop.around(pose.image[:11, :2].mean(0), HEAD_BOX_METRES * px_per_metre)


class BodyParts:
    """Hands and face of the tracked person, written into ``raw`` (a ``RawTrack``).

    :meth:`add` hands over one frame with its body (the face is found there and then, the
    hands queued for the worker); :meth:`finish` waits until every frame added is done (and
    raises what the worker raised); :meth:`close` stops the worker (dropping frames not yet
    done) and frees the models. ``threaded=False`` finds the hands in :meth:`add` too."""

    def __init__(self, raw, hands: bool, face: bool, video_mode: bool, threaded: bool = True):
        from .face_mesh import FaceMeshDetector

        self.raw = raw
        self.hand_pair = HandPair(video_mode) if hands else None
        self.face_model = FaceMeshDetector(video_mode=video_mode) if face else None
        self.head = StickyWindow(shift=HEAD_SHIFT, resize=0.2)
        self._error: BaseException | None = None
        self._cancel = False
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if threaded and hands:
            self._queue = queue.Queue(maxsize=QUEUE_FRAMES)
            self._thread = threading.Thread(target=self._work, name="dreamactor-hands", daemon=True)
            self._thread.start()

    def add(self, t: int, frame: np.ndarray, pose: PoseResult, ppm: float, restarted: bool) -> None:
        """Frame ``t`` (H, W, 3) uint8 with its body; ``restarted``: no body on frame t-1."""
        if self._error is not None:
            raise self._error
        if self.face_model is not None:
            self._face(t, frame, pose, ppm)
        if self._queue is None:
            self._hands(t, frame, pose, ppm, restarted)
        else:
            self._queue.put((t, frame, pose, ppm, restarted))

    def finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        if self._thread is not None:
            self._cancel = True
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        for model in (self.hand_pair, self.face_model):
            if model is not None:
                model.close()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._cancel or self._error is not None:
                continue  # drain, so add() never blocks on a worker that stopped
            try:
                self._hands(*item)
            except BaseException as e:  # handed to the caller's thread by add() / finish()
                self._error = e

    def _hands(self, t: int, frame: np.ndarray, pose: PoseResult, ppm: float, restarted: bool) -> None:
        raw = self.raw
        if self.hand_pair is not None:
            if restarted:  # the hand trackers' last ROIs belong to an older place
                self.hand_pair.reset()
            hands = self.hand_pair.process(frame, pose, ppm)
            for k, side in enumerate(SIDES):
                h = hands[side]
                if h is not None:
                    raw.hand_image[t, k], raw.hand_world[t, k] = h.image, h.world
                    # MediaPipe Hands gives no per-point or presence score; a returned hand
                    # passed its presence threshold and our side checks.
                    raw.hand_score[t, k] = 1.0
                    raw.hand_valid[t, k] = True

    def _face(self, t: int, frame: np.ndarray, pose: PoseResult, ppm: float) -> None:
        raw = self.raw
        if t == 0 or not raw.face_valid[t - 1]:
            self.head.reset()  # searching, not tracking: centre the crop on the head for the detector
        mesh = self.face_model.detect(frame, roi=self.head.update(head_window(pose, ppm)).box)
        if mesh is not None:
            off = np.linalg.norm(mesh.points2d.mean(0) - pose.image[MP["nose"], :2])
            if off <= FACE_GATE_METRES * ppm:
                raw.face[t], raw.face_valid[t] = mesh.points3d, True
                raw.blendshapes[t], raw.face_matrix[t] = mesh.blendshapes, mesh.matrix
