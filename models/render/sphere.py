"""The head sphere of the ``dreamactor`` guide: a shaded ball whose colours show where the head points.

Every canvas pixel near the sphere casts its camera ray at the sphere (exact
perspective: off-centre spheres project to the ellipses a real camera sees).
Where the ray hits, the surface normal is turned into the HEAD frame with the
head rotation (``n_head = R^T n_camera``, R = camera-from-head), and the colour
is that head-frame normal as RGB (``0.5 + 0.5 * n_head``): a fixed "paint" on
the head, so yawing, pitching or rolling the head changes which colours face
the camera. Lambert shading with the light at the camera gives the ball its
3D look, and a white spot marks where the face axis leaves the sphere (it
turns to an ellipse and slides off as the head turns away, and is hidden from
behind), ringed in a dark band so it does not read as a highlight. The
colouring is driven only by the rotation matrix: it does not depend on which
head axis means what; only the face spot needs ``face_axis``.
"""

from __future__ import annotations

import numpy as np

from .fit import FrameFit

FACE_AXIS = np.array([0.0, 0.0, 1.0])
"""Face direction in the head frame: +z out of the face, the frame ``models.head.sphere``
defines (x to the subject's right ear, y down, z forward)."""
FACE_SPOT_DEG = 18.0
"""Angular radius of the face spot."""
_AMBIENT = 0.4


def sphere_box(
    center: np.ndarray, radius: float, camera: np.ndarray, fit: FrameFit
) -> tuple[int, int, int, int] | None:
    """Canvas pixel box (x0, y0, x1, y1), end-exclusive, that holds the sphere's
    outline; None when the sphere is off the canvas or reaches the camera."""
    C = np.asarray(center, np.float64)
    dist = float(np.linalg.norm(C))
    if C[2] <= radius or dist <= radius * 1.001:
        return None
    K = np.asarray(camera, np.float64)
    centre_src = K[:2, :2] @ (C[:2] / C[2]) + K[:2, 2]
    half_angle = np.arcsin(radius / dist)
    # Angular radius -> pixels at the sphere's own direction (where a pinhole
    # magnifies by 1/cos^2 of the off-axis angle), with a margin for the ellipse.
    cos_off = C[2] / dist
    r_src = np.tan(half_angle) * max(K[0, 0], K[1, 1]) / cos_off**2
    c = fit.apply(centre_src)
    r = r_src * max(fit.sx, fit.sy) * 1.15 + 2.0
    x0, y0 = int(np.floor(c[0] - r)), int(np.floor(c[1] - r))
    x1, y1 = int(np.ceil(c[0] + r)) + 1, int(np.ceil(c[1] + r)) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, fit.width), min(y1, fit.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def shade_sphere(
    center: np.ndarray,
    radius: float,
    rotation: np.ndarray,
    camera: np.ndarray,
    fit: FrameFit,
    box: tuple[int, int, int, int],
    face_axis: np.ndarray = FACE_AXIS,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour and coverage of the sphere over ``box``.

    Returns (rgb (h, w, 3) float32 in [0, 255], alpha (h, w) float32 in [0, 1]),
    alpha being the anti-aliased pixel coverage of the outline.
    """
    x0, y0, x1, y1 = box
    C = np.asarray(center, np.float64)
    K = np.asarray(camera, np.float64)
    R = np.asarray(rotation, np.float64)
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    src = fit.invert(np.stack([xs, ys], -1))
    # Camera rays through the pixels, unit length.
    d = np.empty(src.shape[:2] + (3,))
    d[..., 0] = (src[..., 0] - K[0, 2]) / K[0, 0]
    d[..., 1] = (src[..., 1] - K[1, 2]) / K[1, 1]
    d[..., 2] = 1.0
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    dist = np.linalg.norm(C)
    b = d @ C  # distance along the ray to the point nearest the centre
    disc = np.maximum(b * b - (dist * dist - radius * radius), 0.0)
    hit = (b - np.sqrt(disc))[..., None] * d  # nearest intersection; on the outline for rays that miss
    n_cam = (hit - C) / radius
    n_cam /= np.linalg.norm(n_cam, axis=-1, keepdims=True)
    # Coverage: angular distance to the outline, in canvas pixels.
    ray_angle = np.arccos(np.clip(b / dist, -1.0, 1.0))
    px_per_rad = max(K[0, 0], K[1, 1]) * fit.length_scale / (C[2] / dist) ** 2
    alpha = np.clip((np.arcsin(radius / dist) - ray_angle) * px_per_rad + 0.5, 0.0, 1.0)

    n_head = n_cam @ R  # R^T n, row-wise
    rgb = 0.5 + 0.5 * n_head
    light = np.clip(-(n_cam * d).sum(-1), 0.0, 1.0)
    rgb *= (_AMBIENT + (1.0 - _AMBIENT) * light)[..., None]
    # Face spot: white within FACE_SPOT_DEG of the face axis, ringed by a dark band
    # (never black: black is the background) so it reads as a marker and not as
    # a highlight. Soft edges, in cosine units.
    axis = np.asarray(face_axis, np.float64)
    axis = axis / np.linalg.norm(axis)
    cos_to_axis = n_head @ axis
    ring = np.clip((cos_to_axis - np.cos(np.radians(FACE_SPOT_DEG + 6.0))) / 0.02, 0.0, 1.0)[..., None]
    spot = np.clip((cos_to_axis - np.cos(np.radians(FACE_SPOT_DEG))) / 0.02, 0.0, 1.0)[..., None]
    rgb = rgb * (1.0 - 0.8 * ring) + spot * (1.0 - 0.2 * rgb)
    return (rgb * 255.0).astype(np.float32), alpha.astype(np.float32)


def draw_sphere(
    canvas: np.ndarray,
    center: np.ndarray,
    radius: float,
    rotation: np.ndarray,
    camera: np.ndarray,
    fit: FrameFit,
    face_axis: np.ndarray = FACE_AXIS,
) -> None:
    """Composite the shaded head sphere onto ``canvas`` (H, W, 3) uint8, in place."""
    box = sphere_box(center, radius, camera, fit)
    if box is None:
        return
    rgb, alpha = shade_sphere(center, radius, rotation, camera, fit, box, face_axis)
    x0, y0, x1, y1 = box
    under = canvas[y0:y1, x0:x1].astype(np.float32)
    a = alpha[..., None]
    canvas[y0:y1, x0:x1] = (under * (1.0 - a) + rgb * a + 0.5).astype(np.uint8)
