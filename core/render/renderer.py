"""FaceRenderer: draws a FaceRig posed by one frame of a FaceTrack into the bound framebuffer.

It takes the moderngl context it is given, so the same code serves the offscreen
renderer (EGL), video export and the studio's QOpenGLWidget.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from core.arkit import NUM_BLENDSHAPES
from core.face.rig import FaceRig, active_rows, front_bounds, head_rotation, vertex_normals
from core.render.camera import OrbitCamera
from core.render.shaders import program


@dataclass
class Lighting:
    """Three-point studio lighting, directions in world space (towards the light)."""

    key_dir: tuple = (0.55, 0.45, 0.7)
    key_color: tuple = (1.05, 0.98, 0.92)
    fill_dir: tuple = (-0.7, 0.1, 0.6)
    fill_color: tuple = (0.4, 0.443, 0.543)
    rim_dir: tuple = (-0.2, 0.6, -0.9)
    rim_color: tuple = (0.55, 0.6, 0.7)
    ambient: tuple = (0.10, 0.10, 0.12)
    # A flat backdrop (sRGB): a clear costs llvmpipe nothing, while any full-screen
    # gradient pass was measured at 5-6 ms a frame, a third of the budget at 60 frames/s.
    background: tuple = (0.16, 0.17, 0.2)


# Per part (core.face.rig.PART_NAMES): diffuse wrap, specular exponent, specular strength.
MATERIALS = np.array([
    (0.45, 24.0, 0.06),   # skin: soft terminator, broad dull sheen
    (0.10, 120.0, 0.6),   # eye white: wet, sharp highlight
    (0.10, 120.0, 0.6),   # iris
    (0.10, 60.0, 0.15),   # teeth
    (0.00, 1.0, 0.0),     # mouth interior: matte
    (0.40, 40.0, 0.2),    # tongue
], np.float32)


def blend_basis(rig: FaceRig) -> tuple[np.ndarray, np.ndarray]:
    """Neutral (V, 9) and per-shape (52, V*9) offsets of interleaved positions, normals and
    colour offsets (the creases the shapes drive, FaceRig.shading).

    Normals blend linearly with the weights and are renormalised, as glTF morph targets
    do: one matrix product per frame instead of recomputing them from the triangles.
    """
    n0 = vertex_normals(rig.vertices, rig.triangles)
    neutral = np.hstack([rig.vertices, n0, np.zeros_like(n0)]).astype(np.float32)
    basis = np.empty((NUM_BLENDSHAPES, rig.num_vertices, 9), np.float32)
    for i in range(NUM_BLENDSHAPES):
        basis[i, :, :3] = rig.deltas[i]
        basis[i, :, 3:6] = vertex_normals(rig.vertices + rig.deltas[i], rig.triangles) - n0
        basis[i, :, 6:] = rig.shading[i]
    return neutral, basis.reshape(NUM_BLENDSHAPES, -1)


def model_matrix(rig: FaceRig, values: np.ndarray) -> np.ndarray:
    """4x4 head rotation about the rig's pivot for one frame's pitch/yaw/roll."""
    pitch, yaw, roll = (float(x) for x in values[NUM_BLENDSHAPES:NUM_BLENDSHAPES + 3])
    m = np.identity(4, np.float32)
    r = head_rotation(pitch, yaw, roll)
    m[:3, :3] = r
    m[:3, 3] = rig.pivot - r @ rig.pivot
    return m


class FaceRenderer:
    def __init__(self, ctx: moderngl.Context, rig: FaceRig, lighting: Lighting | None = None):
        self.ctx = ctx
        self.rig = rig
        self.lighting = lighting or Lighting()
        self.wireframe = False
        self.camera = default_camera(rig)
        self._prog = program(ctx, "face")
        static = np.hstack([rig.colors, MATERIALS[rig.parts]]).astype(np.float32)
        self._static = ctx.buffer(static.tobytes())
        self._dynamic = ctx.buffer(reserve=rig.num_vertices * 9 * 4, dynamic=True)
        self._index = ctx.buffer(rig.triangles.astype(np.uint32).tobytes())
        self._vao = ctx.vertex_array(
            self._prog,
            [(self._dynamic, "3f 3f 3f", "in_position", "in_normal", "in_shade"), (self._static, "3f 3f", "in_color", "in_material")],
            index_buffer=self._index,
            index_element_size=4,
        )
        # the still neck and shoulders (core.face.body), drawn without the head's rotation
        from core.face.body import build_body
        body = build_body()
        self.show_body = True
        self._body_dynamic = ctx.buffer(np.hstack([body.vertices, body.normals, np.zeros_like(body.normals)])
                                        .astype(np.float32).tobytes())
        self._body_static = ctx.buffer(np.hstack([body.colors, np.tile(MATERIALS[0], (len(body.vertices), 1))])
                                       .astype(np.float32).tobytes())
        self._body_index = ctx.buffer(body.triangles.tobytes())
        self._body_vao = ctx.vertex_array(
            self._prog,
            [(self._body_dynamic, "3f 3f 3f", "in_position", "in_normal", "in_shade"),
             (self._body_static, "3f 3f", "in_color", "in_material")],
            index_buffer=self._body_index,
            index_element_size=4,
        )
        self._aa = program(ctx, "antialias")
        self._aa["u_image"].value = 0
        self._aa_vao = ctx.vertex_array(self._aa, [])
        self.antialias = True
        self._scene: moderngl.Framebuffer | None = None
        self._scratch = np.empty((rig.num_vertices, 9), np.float32)
        self._neutral, self._basis = blend_basis(rig)
        # shapes used together never shade a vertex past the deepest crease or brightest highlight
        # any one of them draws there (a smile's fold, squint and dimple stacked read as grime)
        self._shade_lo = np.minimum(rig.shading.min(axis=0), 0.0)
        self._shade_hi = np.maximum(rig.shading.max(axis=0), 0.0)
        self._posed_weights: np.ndarray | None = None

    def pose(self, values: np.ndarray) -> None:
        """Blend the rig for one frame's 55 values and upload positions, normals and creases."""
        w = np.asarray(values[:NUM_BLENDSHAPES], np.float32)
        if self._posed_weights is not None and np.array_equal(w, self._posed_weights):
            return
        out = self._scratch
        np.matmul(*active_rows(w, self._basis), out=out.reshape(-1))
        out += self._neutral
        normals = out[:, 3:6]
        length = np.sqrt(np.einsum("ij,ij->i", normals, normals))
        normals /= np.maximum(length, 1e-12)[:, None]
        np.clip(out[:, 6:], self._shade_lo, self._shade_hi, out=out[:, 6:])
        self._dynamic.write(out)
        self._posed_weights = w.copy()

    def draw(self, values: np.ndarray, target: moderngl.Framebuffer, width: int, height: int,
             camera: OrbitCamera | None = None, top_down: bool = False) -> None:
        """Draw the face for one frame's 55 values into `target` (cleared first).

        The scene is drawn into an internal texture, then the edge filter resolves it into
        `target`; with antialias off it is drawn straight into `target`. With top_down the
        picture is stored upside down, so that reading the framebuffer back gives the top row
        first (as images and video frames want) without a copy.
        """
        ctx = self.ctx
        cam = camera or self.camera
        self.pose(values)
        scene = self._scene_framebuffer(width, height) if self.antialias else target
        scene.use()
        ctx.viewport = (0, 0, width, height)
        ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        lit = self.lighting
        ctx.clear(*lit.background, 1.0, depth=1.0)
        # Back faces are culled: the rig's triangles face outwards (and the mouth cavity's
        # towards the viewer), and culling saves a third of the raster time on llvmpipe.
        ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        prog = self._prog
        prog["u_model"].write(model_matrix(self.rig, values).T.tobytes())
        prog["u_view"].write(cam.view().T.tobytes())
        proj = cam.projection(width / height)
        if top_down:
            proj[1] *= -1.0
        ctx.front_face = "cw" if top_down else "ccw"   # the flip mirrors the winding
        prog["u_proj"].write(proj.T.tobytes())
        prog["u_eye"].value = tuple(float(x) for x in cam.eye())
        for name in ("key_dir", "fill_dir", "rim_dir"):
            d = np.asarray(getattr(lit, name), np.float64)
            prog[f"u_{name}"].value = tuple(d / np.linalg.norm(d))
        for name in ("key_color", "fill_color", "rim_color", "ambient"):
            prog[f"u_{name}"].value = getattr(lit, name)
        prog["u_wireframe"].value = int(self.wireframe)
        ctx.wireframe = self.wireframe
        self._vao.render(moderngl.TRIANGLES)
        if self.show_body:
            prog["u_model"].write(np.identity(4, np.float32).tobytes())
            self._body_vao.render(moderngl.TRIANGLES)
        ctx.wireframe = False
        ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        if self.antialias:
            target.use()
            ctx.viewport = (0, 0, width, height)
            self._scene_color.use(0)
            self._aa_vao.render(moderngl.TRIANGLES, vertices=3)

    def _scene_framebuffer(self, width: int, height: int) -> moderngl.Framebuffer:
        if self._scene is None or self._scene.size != (width, height):
            if self._scene is not None:
                self._scene.release()
                self._scene_color.release()
                self._scene_depth.release()
            self._scene_color = self.ctx.texture((width, height), 4)
            self._scene_color.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._scene_color.repeat_x = self._scene_color.repeat_y = False
            self._scene_depth = self.ctx.depth_renderbuffer((width, height))
            self._scene = self.ctx.framebuffer([self._scene_color], self._scene_depth)
        return self._scene

    def release(self) -> None:
        for obj in (self._vao, self._aa_vao, self._static, self._dynamic, self._index,
                    self._body_vao, self._body_dynamic, self._body_static, self._body_index,
                    self._prog, self._aa):
            obj.release()
        if self._scene is not None:
            for obj in (self._scene, self._scene_color, self._scene_depth):
                obj.release()


def default_camera(rig: FaceRig, aspect: float = 16 / 9, margin: float = 1.3) -> OrbitCamera:
    """A front camera framed on the face (the skin in front of the ears), not the whole head."""
    if rig.face_box is not None:
        return OrbitCamera.framing(rig.face_box[0], rig.face_box[1], aspect=aspect, margin=margin)
    skin = rig.vertices[rig.parts == 0] if (rig.parts == 0).any() else rig.vertices
    lo, hi = front_bounds(skin)
    return OrbitCamera.framing(lo, hi, aspect=aspect, margin=margin)


def portrait_camera(rig: FaceRig, aspect: float = 16 / 9) -> OrbitCamera:
    """A talking-head shot: the whole head and the top of the shoulders (core.face.body),
    orbiting about the head's vertical axis."""
    lo, hi = rig.vertices.min(axis=0), rig.vertices.max(axis=0)
    lo = np.array([-21.0, -23.0, lo[2]], np.float32)
    hi = np.array([21.0, hi[1] + 1.0, hi[2]], np.float32)
    return OrbitCamera.framing(lo, hi, aspect=aspect, margin=1.0)
