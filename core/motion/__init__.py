"""Stage 2: the instruction-conditioned diffusion model that turns speech into a FaceTrack."""
