"""Guides drawn from a ``Motion``, one frame at a time: the ``dreamactor`` style (3D skeleton
far-to-near with depth shading, the head sphere coloured by its orientation), the
``wan-animate`` style (the 2D pose picture Wan2.2-Animate was trained on), how a frame is
fitted to a canvas, guide videos drawn lazily, and ``POSE_KEYPOINT`` (OpenPose JSON)."""
