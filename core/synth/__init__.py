"""Training-data synthesis for the motion model (stage 2). Inference never imports this package."""
