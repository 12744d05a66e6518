"""From a video or a photo to one person's ``Motion``: MediaPipe's Tasks landmarkers on square
crops (body, hands, face mesh; their ``.task`` files found or fetched by ``model_files``),
following the chosen person through the clip, the mapping of MediaPipe's landmarks onto the
pack's skeleton, metric 3D placed in the camera, then gap filling and One-Euro smoothing
(``driver`` runs the whole extraction)."""
