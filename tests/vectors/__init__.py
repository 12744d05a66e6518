"""Vector files shared by the Python and JS tests, and the scripts that write them
(``python -m tests.vectors.make_retarget_vectors``)."""
