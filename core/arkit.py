"""The ARKit-52 channel set: names in Apple's documented order, plus head rotation."""

# Apple's ARFaceAnchor.BlendShapeLocation, in the order of its documentation
# (left eye, right eye, mouth and jaw, eyebrows, cheeks, nose, tongue).
BLENDSHAPES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft",
    "eyeLookUpLeft", "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight",
    "eyeLookUpRight", "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)

# Head rotation in radians, after the 52 weights: right-handed rotations about X (pitch,
# positive looks down), Y (yaw) and Z (roll), with Y up and Z towards the viewer.
# core.face.rig.head_rotation is the one definition of how they compose.
HEAD: tuple[str, ...] = ("headPitch", "headYaw", "headRoll")

CHANNELS: tuple[str, ...] = BLENDSHAPES + HEAD
NUM_BLENDSHAPES = len(BLENDSHAPES)
NUM_CHANNELS = len(CHANNELS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}

assert NUM_BLENDSHAPES == 52 and len(set(BLENDSHAPES)) == 52


def mirror_name(name: str) -> str:
    """The channel on the other side of the face (eyeBlinkLeft -> eyeBlinkRight)."""
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name
