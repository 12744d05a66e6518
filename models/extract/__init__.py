"""From a video or a photo to one person's ``Motion``: MediaPipe landmark models on square crops
(body, hands, face mesh), following the chosen person through the clip, the mapping of
MediaPipe's landmarks onto the pack's skeleton, metric 3D placed in the camera, then gap
filling and One-Euro smoothing (``driver`` runs the whole extraction)."""
