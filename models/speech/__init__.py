"""Lip-sync from speech: an audio track read per video frame as mouth openness and a viseme
(from the sound's acoustics, any language; ``analysis``, ``visemes``), and a face performance
whose mouth follows it: face crops from a picture or a clip, the mouth moved by a landmark
warp (``mouth``), served lazily as a ``DA_FACE`` (``performance``, ``sources``); ``plot``
draws the curve over the waveform."""
