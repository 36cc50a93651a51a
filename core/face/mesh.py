"""Mesh utilities for the preview head: the canonical mesh, Loop subdivision, boundary
loops, harmonic (Laplace) interpolation of fields over a mesh, and mirror maps."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.spatial import cKDTree

CANONICAL_RESOURCE = "face/canonical_face.npz"


@dataclass(frozen=True)
class CanonicalMesh:
    vertices: np.ndarray   # (468, 3) float32, cm
    uvs: np.ndarray        # (468, 2) float32
    triangles: np.ndarray  # (898, 3) uint32


def load_canonical() -> CanonicalMesh:
    """The MediaPipe canonical face mesh shipped in resources/face/canonical_face.npz."""
    with resources.files("resources").joinpath(CANONICAL_RESOURCE).open("rb") as f:
        d = np.load(f)
        return CanonicalMesh(d["vertices"].astype(np.float32), d["uvs"].astype(np.float32),
                             d["triangles"].astype(np.uint32))


def edges_of(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique undirected edges (E, 2), and for each triangle its 3 edge ids (T, 3)
    (edge k joins corners k and k+1), and per edge the number of incident triangles."""
    t = np.asarray(triangles, np.int64)
    half = np.stack([t, np.roll(t, -1, axis=1)], axis=2).reshape(-1, 2)
    key = np.sort(half, axis=1)
    uniq, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return uniq, inverse.reshape(-1, 3), counts


def boundary_loops(triangles: np.ndarray) -> list[np.ndarray]:
    """Closed boundary loops as vertex index arrays, each ordered along the boundary
    half-edges' direction (so the surface is on the left seen from outside)."""
    t = np.asarray(triangles, np.int64)
    half = np.stack([t, np.roll(t, -1, axis=1)], axis=2).reshape(-1, 2)
    key = np.sort(half, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    bnd = half[counts[inverse] == 1]
    nxt = {int(a): int(b) for a, b in bnd}
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, v = [], start
        while v not in seen:
            seen.add(v)
            loop.append(v)
            v = nxt[v]
        loops.append(np.array(loop, np.int64))
    return loops


def loop_subdivision(vertices_count: int, triangles: np.ndarray) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """One step of Loop subdivision with boundary (crease) rules, as a linear operator.

    Returns S (V' x V, so any per-vertex field f maps to S @ f) and the new triangles.
    The first V rows are the repositioned original vertices, then one vertex per edge.
    """
    n = vertices_count
    t = np.asarray(triangles, np.int64)
    edges, tri_edges, counts = edges_of(t)
    e_count = len(edges)
    is_bnd_edge = counts == 1
    rows, cols, vals = [], [], []

    # Edge points: interior 3/8 (a + b) + 1/8 (c + d); boundary 1/2 (a + b).
    opp = np.full((e_count, 2), -1, np.int64)
    fill = np.zeros(e_count, np.int64)
    for k in range(3):
        e = tri_edges[:, k]
        o = t[:, (k + 2) % 3]
        # Scatter opposite vertices (an edge has at most 2 triangles on a manifold).
        order = np.argsort(e, kind="stable")
        es, os_ = e[order], o[order]
        for eid, ov in zip(es, os_):
            opp[eid, fill[eid]] = ov
            fill[eid] += 1
    er = n + np.arange(e_count)
    wa = np.where(is_bnd_edge, 0.5, 3 / 8)
    for j in range(2):
        rows.append(er); cols.append(edges[:, j]); vals.append(wa)
    inner = ~is_bnd_edge
    for j in range(2):
        rows.append(er[inner]); cols.append(opp[inner, j]); vals.append(np.full(inner.sum(), 1 / 8))

    # Vertex points.
    nb = [set() for _ in range(n)]
    for a, b in edges:
        nb[a].add(int(b)); nb[b].add(int(a))
    bnd_nb = [[] for _ in range(n)]
    for a, b in edges[is_bnd_edge]:
        bnd_nb[a].append(int(b)); bnd_nb[b].append(int(a))
    vr, vc, vv = [], [], []
    for v in range(n):
        if bnd_nb[v]:
            if len(bnd_nb[v]) == 2:
                vr += [v, v, v]; vc += [v, *bnd_nb[v]]; vv += [0.75, 0.125, 0.125]
            else:  # non-manifold boundary corner: keep it
                vr.append(v); vc.append(v); vv.append(1.0)
        elif nb[v]:
            k = len(nb[v])
            beta = (5 / 8 - (3 / 8 + np.cos(2 * np.pi / k) / 4) ** 2) / k
            vr.append(v); vc.append(v); vv.append(1 - k * beta)
            for u in nb[v]:
                vr.append(v); vc.append(u); vv.append(beta)
        else:
            vr.append(v); vc.append(v); vv.append(1.0)
    rows.append(np.array(vr)); cols.append(np.array(vc)); vals.append(np.array(vv))
    s = scipy.sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n + e_count, n))

    a, b, c = t[:, 0], t[:, 1], t[:, 2]
    ab, bc, ca = (n + tri_edges[:, k] for k in range(3))
    new = np.concatenate([
        np.stack([a, ab, ca], 1), np.stack([ab, b, bc], 1),
        np.stack([ca, bc, c], 1), np.stack([ab, bc, ca], 1)])
    return s, new.astype(np.uint32)


def graph_laplacian(n: int, triangles: np.ndarray) -> scipy.sparse.csr_matrix:
    """Uniform (umbrella) graph Laplacian L = D - A of the mesh edges."""
    edges, _, _ = edges_of(triangles)
    a = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    a = (a + a.T).tocsr()
    a.data[:] = 1.0
    d = scipy.sparse.diags(np.asarray(a.sum(axis=1)).ravel())
    return (d - a).tocsr()


def harmonic(laplacian: scipy.sparse.csr_matrix, fixed: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Solve L f = 0 on free vertices with f[fixed] = values; values (K,) or (K, C).

    Vertices in components with no fixed vertex get 0.
    """
    n = laplacian.shape[0]
    values = np.asarray(values, np.float64)
    squeeze = values.ndim == 1
    vals = values[:, None] if squeeze else values
    fixed = np.asarray(fixed, np.int64)
    out = np.zeros((n, vals.shape[1]))
    out[fixed] = vals
    free = np.setdiff1d(np.arange(n), fixed)
    lff = laplacian[free][:, free].tocsc()
    rhs = -laplacian[free][:, fixed] @ vals
    # A tiny diagonal keeps unconstrained components solvable (they decay to 0).
    lff = lff + scipy.sparse.identity(len(free), format="csc") * 1e-9
    out[free] = scipy.sparse.linalg.splu(lff).solve(rhs)
    return out[:, 0] if squeeze else out


def mirror_map(keys: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """Index of each vertex's mirror image (x -> -x). `keys` are (V, D) with x first; the
    extra columns (part id, side tags) keep coincident vertices apart."""
    keys = np.asarray(keys, np.float64)
    flipped = keys.copy()
    flipped[:, 0] *= -1
    dist, idx = cKDTree(keys).query(flipped)
    if dist.max() > tol:
        raise ValueError(f"mesh is not mirror-symmetric (worst mismatch {dist.max():.4g})")
    return idx


def mirror_field(field: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """The mirror image of a per-vertex vector field (V, 3): f'(i) = flipX(f(mirror(i)))."""
    out = field[mirror].copy()
    out[..., 0] *= -1
    return out
