"""The driver's motion on the character's body (``transfer.retarget_details``): the driver
refitted at one length per bone on its camera rays (``clip_fit``), bone kinematics, bone
lengths (measured, mirrored, from body proportions or an SMPL-X fit), foot contacts and
planting, framing into the reference picture, the artist's bone edits and hand-placed reference
joints (``reference_pose``), and the preview the browser bone editor redraws from (with the
run's stored inputs it is recomputed from, ``preview_inputs``)."""
