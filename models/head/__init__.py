"""The head as DreamActor sees it: a canonical 3D face (neutral MediaPipe mesh in metres) and
the per-frame 3D head sphere (rotation from the face mesh against it, centre and radius in
camera space), smoothed, with lost faces interpolated or held from the body."""
