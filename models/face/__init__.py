"""The implicit face motion's inputs: steady square face crops cut lazily from the driving
video (``DA_FACE``), and the expression controls applied to the face motion tokens
(intensity against a neutral frame, temporal smoothing)."""
