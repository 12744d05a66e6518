"""Video in and out without holding a clip in RAM: ``DA_VIDEO`` as a lazy video (a file or an
array, decoded a window at a time, frame range, every n-th frame, fps resampling, audio) and a
streaming H.264 mp4 writer with the audio muxed."""
