"""The preview head's colours (linear RGB), one place for the head, its creases and its body."""

from __future__ import annotations

import numpy as np

SKIN_RGB = np.array([0.56, 0.34, 0.25])
LIP_RGB = np.array([0.44, 0.12, 0.11])
SCLERA_RGB = np.array([0.80, 0.78, 0.74])
IRIS_RGB = np.array([0.16, 0.09, 0.04])
PUPIL_RGB = np.array([0.01, 0.01, 0.01])
TEETH_RGB = np.array([0.82, 0.78, 0.68])
GUM_RGB = np.array([0.55, 0.20, 0.19])
MOUTH_RGB = np.array([0.10, 0.025, 0.025])
TONGUE_RGB = np.array([0.52, 0.17, 0.16])
BROW_RGB = np.array([0.12, 0.075, 0.05])
HAIR_RGB = np.array([0.13, 0.085, 0.06])
LASH_RGB = np.array([0.03, 0.022, 0.02])
EAR_RGB = np.array([0.58, 0.32, 0.24])
LIP_BLANCH_RGB = np.array([0.58, 0.36, 0.29])   # pressed lips lose their red
HIGHLIGHT_RGB = np.array([0.70, 0.47, 0.38])    # stretched, lifted skin catches light
SHIRT_RGB = np.array([0.10, 0.13, 0.17])
