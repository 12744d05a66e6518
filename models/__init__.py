"""The Comfy-free core of ComfyUI-DreamActor, one subpackage per pipeline stage (in order;
a stage uses ``core`` and earlier stages only, checked by ``make lint``):

- ``core/``     errors, skeleton, the ``Motion`` record, temporal smoothing, gap filling, crop regions
- ``io/``       lazy video reading (``DA_VIDEO``, frame timing) and streaming mp4 writing
- ``extract/``  MediaPipe landmarkers, person tracking, camera-space 3D: a video -> ``Motion``
- ``head/``     the canonical face and DreamActor's 3D head sphere
- ``face/``     stabilised face crops and the expression controls of the face motion
- ``speech/``   speech -> mouth shapes -> a face performance (lip-sync)
- ``retarget/`` the driver's motion on the character's body: clip fit, lengths, contacts, planting, framing, edits
- ``render/``   guide pictures (``dreamactor``, ``wan-animate``), guide videos, ``POSE_KEYPOINT``
- ``dit/``      the DreamActor forward over Wan-Animate, conditioning, segment plans and the segment cache
- ``stitch/``   segments -> one streamed video: seams and colour anchoring

Nothing here imports ComfyUI, ``nodes/``, ``scripts/`` or ``tests/``; the node layer in
``nodes/`` adapts these functions to the host.
"""
