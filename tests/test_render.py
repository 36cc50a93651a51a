"""Offscreen rendering on a real EGL context (Mesa llvmpipe): the face appears and moves."""

import numpy as np
import pytest

from core.arkit import INDEX, NUM_CHANNELS
from core.render.camera import OrbitCamera
from core.render.offscreen import OffscreenRenderer
from core.render.shaders import source


@pytest.fixture(scope="module")
def renderer(head):
    with OffscreenRenderer(head, 320, 180) as r:
        yield r


def frame(**weights):
    v = np.zeros(NUM_CHANNELS, np.float32)
    for name, value in weights.items():
        v[INDEX[name]] = value
    return v


def cavity(img):
    """Pixels of the open mouth: dark and deep red (the background is dark and blue-grey, the
    hair dark brown)."""
    return (img.sum(axis=2) < 200) & (img[..., 0] > 1.5 * img[..., 1] + 5)


def test_shaders_ship_as_package_data():
    assert "gl_Position" in source("face.vert")
    assert "texelFetch" in source("antialias.frag")


def test_face_is_drawn_in_the_middle(renderer):
    img = renderer.render(frame()).astype(int)
    assert img.shape == (180, 320, 3)
    centre = img[60:120, 130:190]
    corner = img[:20, :20]
    # Skin is much brighter and redder than the dark blue-grey background.
    assert centre.mean() > corner.mean() + 60
    assert centre[..., 0].mean() > centre[..., 2].mean() + 20


def test_top_row_first(renderer):
    img = renderer.render(frame(jawOpen=1.0)).astype(int)
    rows = np.nonzero(cavity(img))[0]
    assert rows.mean() > img.shape[0] * 0.6       # the mouth is in the lower part of the picture


def test_jaw_open_shows_the_dark_mouth(renderer):
    closed = renderer.render(frame()).astype(int)
    opened = renderer.render(frame(jawOpen=1.0)).astype(int)
    mouth = (slice(110, 150), slice(135, 185))
    dark_closed = (closed[mouth].sum(axis=2) < 150).mean()
    dark_open = (opened[mouth].sum(axis=2) < 150).mean()
    assert dark_open > dark_closed + 0.1


def mouth_centre_x(img):
    return np.nonzero(cavity(img))[1].mean()


def test_head_yaw_turns_the_face_to_its_left(renderer):
    # Positive yaw turns the nose to the subject's left, the viewer's right.
    straight = mouth_centre_x(renderer.render(frame(jawOpen=1.0)).astype(int))
    turned = mouth_centre_x(renderer.render(frame(jawOpen=1.0, headYaw=0.4)).astype(int))
    assert turned > straight + 5


def test_antialias_only_touches_edges(head):
    with OffscreenRenderer(head, 320, 180, antialias=True) as smooth, \
            OffscreenRenderer(head, 320, 180, antialias=False) as sharp:
        a = smooth.render(frame(jawOpen=0.6)).astype(int)
        b = sharp.render(frame(jawOpen=0.6)).astype(int)
    changed = np.abs(a - b).sum(axis=2) > 6
    assert 0 < changed.mean() < 0.05


def test_orbit_camera():
    cam = OrbitCamera.framing(np.array([-5.0, -5, -5]), np.array([5.0, 5, 5]))
    eye = cam.eye()
    assert eye[2] > 5 and abs(eye[0]) < 1e-5
    cam.orbit(0.5, 0.2)
    cam.zoom(0.5)
    cam.pan(0.1, 0.1)
    assert not np.allclose(cam.eye(), eye)
    cam.reset()
    np.testing.assert_allclose(cam.eye(), eye, atol=1e-5)
    view = cam.view()
    np.testing.assert_allclose(view[:3, :3] @ view[:3, :3].T, np.eye(3), atol=1e-5)


def test_a_whole_head_on_shoulders_from_every_side(head):
    """Issue 15: cranium, hair, ears, neck and shoulders; the back looks finished; the MP4's
    talking-head shot holds the whole head and the top of the shoulders."""
    from core.render.renderer import portrait_camera
    with OffscreenRenderer(head, 320, 180) as r:
        background = np.array(r.render(frame())[0, 0], int)
        shots = {}
        for yaw in (0, 90, 180, 270):
            cam = portrait_camera(head, 320 / 180)
            cam.yaw = np.radians(yaw)
            shots[yaw] = r.render(frame(), cam).astype(int)
    for yaw, img in shots.items():
        drawn = np.abs(img - background).sum(axis=2) > 30
        rows = np.flatnonzero(drawn.any(axis=1))
        assert rows.min() > 0, f"yaw {yaw}: the top of the head is cut off"
        assert drawn[-1].mean() > 0.2, f"yaw {yaw}: no shoulders at the bottom of the frame"
        # one body from the crown to the shoulders down the middle: no gap between head and neck
        column = drawn[:, 150:170].any(axis=1)
        assert column[column.argmax():].all(), f"yaw {yaw}: a gap between head and body"
    # from behind: hair, darker than the face's skin seen from the front
    face_skin = shots[0][40:80, 140:180].mean()
    back_of_head = shots[180][15:45, 145:175].mean()
    assert back_of_head < face_skin - 40
    # from the side: an ear sticks out of the head's outline near eye height
    assert (np.abs(shots[90] - background).sum(axis=2) > 30)[40:80].sum() > 0


def test_head_turns_on_a_still_body(head):
    from core.render.renderer import portrait_camera
    with OffscreenRenderer(head, 320, 180) as r:
        cam = portrait_camera(head, 320 / 180)
        a = r.render(frame(), cam).astype(int)
        b = r.render(frame(headYaw=0.5, headPitch=0.2), cam).astype(int)
    changed = np.abs(a - b).sum(axis=2) > 30
    assert changed[:100].mean() > 0.05          # the head moved
    assert changed[-15:].mean() < 0.01          # the shoulders did not


def test_stacked_shapes_shade_no_deeper_than_one(renderer, head):
    """A smile, a squint and a dimple drawn together would darken their shared skin three times
    over; the blend keeps every vertex within what the darkest and brightest single shape do."""
    face = renderer.face
    face.pose(np.ones(NUM_CHANNELS, np.float32))
    shade = face._scratch[:, 6:]
    lo = np.minimum(head.shading.min(axis=0), 0.0)
    hi = np.maximum(head.shading.max(axis=0), 0.0)
    assert (shade >= lo - 1e-6).all() and (shade <= hi + 1e-6).all()
    unclipped = np.ones(52, np.float32) @ head.shading.reshape(52, -1)
    assert (unclipped.reshape(-1, 3) < lo - 0.05).any()       # without the bound they would
