"""The driver at one length per bone on its rays (``models.retarget.clip_fit``)."""

from __future__ import annotations

import numpy as np

from models.core.motion import project
from models.core.skeleton import BODY
from models.retarget.clip_fit import KEPT, choose_sides, fit_clip_lengths
from models.retarget.lengths import seen_mask
from tests.unit.test_retarget import _walk

PAR = np.maximum(np.asarray(BODY.parents), 0)
FITTED = [j for j, n in enumerate(BODY.joint_names) if j and n not in KEPT]


def _lengths(joints):
    return np.linalg.norm(joints - joints[:, PAR], axis=-1)  # (T, J)


def test_a_rigid_driver_on_its_rays_comes_back_unchanged():
    driver, _ = _walk(view="towards")  # thighs and arms swing through the image plane
    out, L = fit_clip_lengths(driver, seen_mask(driver, 0.5))
    a, b = out - out[:, PAR], (driver.joints3d - driver.joints3d[:, PAR]).astype(np.float64)
    cos = np.sum(a * b, -1)[:, 1:] / np.linalg.norm(a, axis=-1)[:, 1:] / np.linalg.norm(b, axis=-1)[:, 1:]
    assert cos.min() > 0.9999  # same directions (6.5 m away, float32 pixels leave mm of depth)
    np.testing.assert_allclose(L[FITTED], _lengths(driver.joints3d.astype(np.float64))[0, FITTED], rtol=1e-5)


def test_bones_shortened_along_their_rays_get_their_clip_length_back():
    """The extraction's depth made some forearms short (the child slid along its own ray): the
    fit puts them back at one length, still on the rays, on the side the extraction had them."""
    driver, _ = _walk(view="towards")
    j = driver.joints3d.astype(np.float64)
    truth = j.copy()
    rng = np.random.default_rng(0)
    for name in ("left_wrist", "right_wrist", "left_knee"):
        k = BODY[name]
        frames = rng.choice(len(j), 30, replace=False)
        j[frames, k] *= (1.0 + rng.uniform(-0.015, 0.015, len(frames)))[:, None]  # along the ray: same pixel
    bent = driver.replace(joints3d=j.astype(np.float32))
    assert _lengths(j)[:, BODY["left_wrist"]].std() > 1e-3  # the input really changed length
    out, L = fit_clip_lengths(bent, seen_mask(bent, 0.5))
    np.testing.assert_allclose(project(out, bent.camera), bent.joints2d, atol=1e-3)  # on the rays
    for name in ("left_wrist", "right_wrist", "left_knee"):
        k = BODY[name]
        got = _lengths(out)[:, k] / L[k]  # the clip length wherever the ray reaches (a bone lying
        assert np.mean(np.abs(got - 1) < 1e-6) > 0.95 and np.abs(got - 1).max() < 0.03  # across misses by a hair)
        np.testing.assert_allclose(L[k], _lengths(truth)[0, k], rtol=0.02)
        # the extraction's side, not the mirror root, wherever the two are well apart
        parent, ray = truth[:, PAR[k]], truth[:, k] / truth[:, k, 2:3]
        mirror = 2 * np.sum(ray * parent, -1) / np.sum(ray * ray, -1) - truth[:, k, 2]
        apart = np.abs(mirror - truth[:, k, 2]) > 0.3  # 1.5 % of 6.5 m: 0.1 m
        assert apart.sum() > 10 and np.abs(out[apart, k] - truth[apart, k]).max() < 0.02


def test_a_joint_off_its_ray_is_left_alone():
    driver, _ = _walk(view="side")
    j = driver.joints3d.astype(np.float64)
    j[:, BODY["left_wrist"]] += (0.05, 0.0, 0.0)  # no longer projects onto its 2D
    moved = driver.replace(joints3d=j.astype(np.float32))
    out, _ = fit_clip_lengths(moved, seen_mask(moved, 0.5))
    k, p = BODY["left_wrist"], BODY["left_elbow"]
    np.testing.assert_allclose(out[:, k] - out[:, p], j[:, k] - j[:, p], atol=1e-5)  # keeps its bone vector


def test_sides_do_not_flip_on_noise_but_cross_where_the_roots_meet():
    T = 40
    dirs = np.zeros((T, 1, 2, 3))
    # far apart roots: the prior wavers between them on a few frames -> one side throughout
    dirs[:, 0, 0] = (1.0, 0.0, -0.6)
    dirs[:, 0, 1] = (1.0, 0.0, 0.6)
    prior = np.zeros((T, 1, 2))
    prior[:, 0, 1] = 0.5
    prior[[10, 11, 25], 0, 0], prior[[10, 11, 25], 0, 1] = 0.4, 0.0  # three noisy frames
    linked = np.ones((T, 1), bool)
    linked[0] = False
    assert (choose_sides(dirs, prior, linked, 20.0) == 0).all()
    assert choose_sides(dirs, prior, linked, 0.0)[[10, 11, 25], 0].tolist() == [1, 1, 1]  # frame by frame
    # a bone passing through the image plane: the roots meet at frame 20, the prior changes side there
    z = np.abs(np.linspace(-0.6, 0.6, T))
    dirs[:, 0, 0, 2], dirs[:, 0, 1, 2] = -z, z
    prior = np.zeros((T, 1, 2))
    prior[:20, 0, 1], prior[20:, 0, 0] = 2 * z[:20], 2 * z[20:]
    side = choose_sides(dirs, prior, linked, 20.0)[:, 0]
    assert side[:20].tolist() == [0] * 20 and side[20:].tolist() == [1] * 20
