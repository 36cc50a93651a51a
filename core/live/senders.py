"""Where live frames go: Unreal's Live Link (Live Link Face packets) and VTuber apps (VMC over OSC).

Both are UDP and never block: a receiver that is down, or a network that drops packets, costs
the packets and a count (`sent`, `failed`, `last_error`), never the performance.

**Live Link Face** packets are what Epic's iPhone app sends to Unreal's Live Link plugin, as the
independent PyLiveLinkFace decoder reads them: the packet version (6, little-endian uint32),
the device id ("$" + a 36-character UUID), the subject name (big-endian int32 length + UTF-8),
the frame time (big-endian int32 frame number and float32 sub-frame at the frame rate, time
of day like the app's timecode), the frame rate (big-endian int32 numerator and denominator),
the value count (uint8, 61) and 61 big-endian float32: the 52 ARKit shapes in Live Link's
order, head yaw, pitch, roll and the eyes' yaw, pitch, roll in radians
(core.export.livelink.livelink_values, the same values the CSV export writes).

**VMC** (the Virtual Motion Capture protocol that VSeeFace, Warudo, VNyan and other VTuber apps
read): one OSC bundle per frame with `/VMC/Ext/Blend/Val` (name, value) for each of the 52
shapes under its ARKit name (what "perfect sync" avatars name their expressions; `capitalise`
sends "EyeBlinkLeft" for avatars made that way), then `/VMC/Ext/Blend/Apply`, the head bone
as `/VMC/Ext/Bone/Pos` ("Head", position 0, rotation quaternion in Unity's left-handed frame)
and `/VMC/Ext/OK`. OSC is built with python-osc.
"""

from __future__ import annotations

import datetime
import math
import socket
import struct
import uuid

import numpy as np

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES
from core.export.gltf import head_quaternions
from core.export.livelink import BLENDSHAPE_COUNT, livelink_values

LIVELINK_PORT = 11111
VMC_PORT = 39539
LIVELINK_VERSION = 6


class SenderError(ValueError):
    """A destination that cannot be used (bad address); names it."""


def parse_address(text: str, default_port: int, what: str) -> tuple[str, int]:
    """"HOST", "HOST:PORT" or ":PORT" -> (host, port); SenderError naming `what` otherwise."""
    host, sep, port = str(text).strip().rpartition(":")
    if not sep:
        host, port = port, str(default_port)
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise SenderError(f"{what}: {text!r} is not HOST or HOST:PORT") from None
    if not 1 <= number <= 65535:
        raise SenderError(f"{what}: port {number} is not between 1 and 65535")
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, number, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as exc:
        raise SenderError(f"{what}: cannot resolve {host!r} ({exc.strerror})") from None
    return addr[0], number


class UdpSender:
    """Datagrams to one address from a non-blocking socket; failures are counted, not raised."""

    name = "udp"

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, int(port))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sent = 0
        self.failed = 0
        self.last_error = ""

    def send_bytes(self, payload: bytes) -> bool:
        try:
            self.sock.sendto(payload, self.address)
        except OSError as exc:          # refused (nobody listening), unreachable, buffer full
            self.failed += 1
            self.last_error = f"{self.name} to {self.address[0]}:{self.address[1]}: {exc.strerror or exc}"
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        self.sock.close()


def livelink_packet(values: np.ndarray, *, subject: str, device_id: str, frame_time: float, fps: int) -> bytes:
    """One Live Link Face packet for 61 values (core.export.livelink.livelink_values)."""
    values = np.asarray(values, np.float64).reshape(-1)
    if len(values) != BLENDSHAPE_COUNT:
        raise ValueError(f"a Live Link frame has {BLENDSHAPE_COUNT} values, got {len(values)}")
    name = subject.encode("utf-8")
    frames = frame_time * fps
    number = int(math.floor(frames))
    return (struct.pack("<I", LIVELINK_VERSION) + device_id.encode("ascii") + struct.pack("!i", len(name)) + name
            + struct.pack("!if", number, frames - number) + struct.pack("!ii", int(fps), 1)
            + struct.pack("!B", BLENDSHAPE_COUNT) + struct.pack(f"!{BLENDSHAPE_COUNT}f", *values))


def time_of_day() -> float:
    now = datetime.datetime.now()
    return now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6


class LiveLinkSender(UdpSender):
    """Frames as Live Link Face packets: Unreal shows the subject as a Live Link Face source."""

    name = "Live Link"

    def __init__(self, host: str, port: int = LIVELINK_PORT, subject: str = "AVITalking", fps: int = 30) -> None:
        super().__init__(host, port)
        self.subject = subject
        self.fps = int(fps)
        self.device_id = "$" + str(uuid.uuid4()).upper()         # 37 characters, as the app's

    def send(self, frame: np.ndarray) -> bool:
        values = livelink_values(frame)[0]
        return self.send_bytes(livelink_packet(values, subject=self.subject, device_id=self.device_id,
                                               frame_time=time_of_day(), fps=self.fps))


def head_quaternion_unity(pitch: float, yaw: float, roll: float) -> tuple[float, float, float, float]:
    """The head rotation (this project's right-handed, Y-up, Z-to-viewer angles, applied as yaw,
    then pitch, then roll: core.face.rig.head_rotation) as a quaternion (x, y, z, w) in Unity's
    left-handed frame, which VMC uses. A character faces +Z in both; this project's +X is the
    subject's left, Unity's the character's right, so the frames differ by a mirror of X, which
    keeps a quaternion's x and w and negates its y and z: yaw and roll change sign, pitch (positive
    looks down in both) does not."""
    x, y, z, w = head_quaternions(np.array([pitch, yaw, roll]))[0]
    return float(x), float(-y), float(-z), float(w)


class VmcSender(UdpSender):
    """Frames as VMC bundles (OSC): 52 blend values, Apply, the head bone."""

    name = "VMC"

    def __init__(self, host: str, port: int = VMC_PORT, capitalise: bool = False) -> None:
        super().__init__(host, port)
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
        from pythonosc.osc_message_builder import OscMessageBuilder
        self._bundle, self._message, self._now = OscBundleBuilder, OscMessageBuilder, IMMEDIATELY
        self.names = [n[0].upper() + n[1:] if capitalise else n for n in BLENDSHAPES]

    def _msg(self, address: str, *args):
        m = self._message(address=address)
        for a in args:
            m.add_arg(a)
        return m.build()

    def bundle(self, frame: np.ndarray) -> bytes:
        frame = np.asarray(frame, np.float64).reshape(-1)
        b = self._bundle(self._now)
        for name, value in zip(self.names, frame[:NUM_BLENDSHAPES]):
            b.add_content(self._msg("/VMC/Ext/Blend/Val", name, float(value)))
        b.add_content(self._msg("/VMC/Ext/Blend/Apply"))
        qx, qy, qz, qw = head_quaternion_unity(*frame[NUM_BLENDSHAPES:NUM_BLENDSHAPES + 3])
        b.add_content(self._msg("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.0, 0.0, qx, qy, qz, qw))
        b.add_content(self._msg("/VMC/Ext/OK", 1))
        return b.build().dgram

    def send(self, frame: np.ndarray) -> bool:
        return self.send_bytes(self.bundle(frame))
