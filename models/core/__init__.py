"""What every stage shares: ``DreamActorError`` (messages that name node, input and fix), the
29-joint ``BODY`` skeleton, the ``Motion`` record and its ``.motion.npz`` file, temporal
smoothing of tracks (one convention: axis 0 is time, a valid mask, widths in frames), gap
filling and square crop regions. Depends on numpy and scipy only."""
