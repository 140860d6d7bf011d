"""The embedded default dataset: synthetic faces rendered in-package, labelled exactly by projection.

A face is the 68-point 3D mean face (edgekp/data/assets, from AFLW2000-3D) deformed by its principal
components (shape and expression) and a hand-made jaw drop / smile, posed by a sampled yaw, pitch and
roll (|yaw| up to 80), projected orthographically, and painted with OpenCV: hair and neck, a shaded
skin-tone face, then brows, eyes, nose and lips drawn far-to-near so a turned face hides its far
side, on a random background, with lighting, blur, noise and occluders.  The label of every point
is its projection, including points the face itself hides.  Each face draws from its own
``np.random.default_rng([seed, index])``, so face i is the same whatever n is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edgekp.data.pose import ASSETS, mean_face, rotation_matrix

_SHIFT = 4  # cv2 sub-pixel drawing: coordinates carry 4 fractional bits
_ONE = 1 << _SHIFT
JAW, BROW_R, BROW_L, NOSE_BRIDGE, NOSE_BASE = range(0, 17), range(17, 22), range(22, 27), range(27, 31), range(31, 36)
EYE_R, EYE_L, LIPS_OUT, LIPS_IN = range(36, 42), range(42, 48), range(48, 60), range(60, 68)

SKIN = np.array(
    [[255, 224, 196], [241, 194, 155], [224, 172, 125], [198, 134, 96], [141, 85, 56], [92, 58, 38]], np.float32
)
HAIR = np.array([[20, 15, 12], [60, 40, 25], [110, 75, 40], [190, 150, 90], [120, 120, 120], [35, 30, 30]], np.float32)


@lru_cache(maxsize=1)
def _model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(68 x 3 mean face, C x 68 x 3 scaled deformation basis, extra head points H x 3)."""
    mean = mean_face()
    basis = np.load(ASSETS / "face_basis_68.npz")
    comps = basis["components"] * basis["std"][:, None, None]
    # Forehead and scalp: brow line lifted and pushed back, so hair and the face outline have a top.
    brows = mean[17:27]
    forehead = brows + np.array([0.0, -0.45, 0.25])
    scalp = np.concatenate(
        [brows * np.array([1.25, 1.0, 1.0]) + np.array([0.0, -0.95, 0.55]), mean[[0, 16]] + np.array([0.0, -0.5, 0.25])]
    )
    return mean, comps, np.concatenate([forehead, scalp])


def _shape(rng: np.random.Generator) -> np.ndarray:
    """A deformed 3D face (68 + head points) in model units (inter-ocular distance ~1)."""
    mean, comps, head = _model()
    coeff = np.clip(rng.normal(0, 1.6, len(comps)), -3.5, 3.5)
    face = mean + np.tensordot(coeff, comps, axes=1)
    face = face * np.array([rng.uniform(0.9, 1.1), rng.uniform(0.92, 1.12), 1.0])  # wide/long faces
    drop = max(0.0, rng.normal(-0.03, 0.09))  # jaw drop: opens the mouth, lowers chin and lower lip
    lower = [5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67]
    face[lower, 1] += drop * np.array([0.3, 0.6, 0.85, 1, 0.85, 0.6, 0.3] + [0.8] * 8)
    smile = rng.normal(0.0, 0.05)  # mouth corners up/out
    face[[48, 60], 0] -= smile
    face[[54, 64], 0] += smile
    face[[48, 54, 60, 64], 1] -= smile
    lid = rng.uniform(0.0, 0.6) if rng.random() < 0.15 else 0.0  # half-closed eyes now and then
    for top, bottom in ((37, 41), (38, 40), (43, 47), (44, 46)):
        face[top, 1] += lid * (face[bottom, 1] - face[top, 1])
    head_pts = head * np.array([face[16, 0] - face[0, 0], 1.0, 1.0]) / (mean[16, 0] - mean[0, 0])
    return np.concatenate([face, head_pts])


def _pose(rng: np.random.Generator) -> np.ndarray:
    wide = rng.random() < 0.45  # enough large poses for the balancer to have real ones
    yaw = rng.uniform(-80, 80) if wide else rng.normal(0, 15)
    pitch = np.clip(rng.normal(0, 11), -35, 35)
    roll = np.clip(rng.normal(0, 10), -40, 40)
    return np.array([np.clip(yaw, -80, 80), pitch, roll])


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    # A two-colour gradient plus blotchy low-frequency texture, built small and resized (cheap).
    cells = int(rng.integers(2, 9))
    c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0, 1, cells)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.clip(0.5 + (np.cos(angle) * (t[None, :] - 0.5) + np.sin(angle) * (t[:, None] - 0.5)), 0, 1)
    small = c1 + (c2 - c1) * ramp[..., None] + rng.normal(0, rng.uniform(5, 40), (cells, cells, 3))
    img = cv2.resize(small.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(0, 5))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        p = (rng.uniform(-0.2, 1.2, 2) * size * _ONE).astype(int)
        r = int(rng.uniform(0.05, 0.3) * size * _ONE)
        if rng.random() < 0.5:
            cv2.circle(img, tuple(p), r, colour, -1, cv2.LINE_AA, _SHIFT)
        else:
            cv2.rectangle(img, tuple(p - r), tuple(p + r), colour, -1, cv2.LINE_AA, _SHIFT)
    return img


@lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return yy, xx


def _blend(img: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """img = img * (1 - a) + colour * a in place, a = mask / 255 (anti-aliased edges)."""
    a = mask.astype(np.float32)[..., None] * np.float32(1 / 255)
    img += a * (np.asarray(colour, np.float32) - img)


def _poly(pts: np.ndarray) -> np.ndarray:
    return np.round(pts * _ONE).astype(np.int32)


def _hull(pts: np.ndarray) -> np.ndarray:
    return cv2.convexHull(_poly(pts))


def render_face(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One face: (S x S x 3 uint8 RGB, 68 x 2 float32 pixel points, [yaw, pitch, roll] float32)."""
    shape3d = _shape(rng)
    pose = _pose(rng)
    rot = rotation_matrix(*pose[:, None])[0]
    cam = shape3d @ rot.T  # camera frame: x right, y down, z away from the camera
    pts68 = cam[:68, :2]
    lo, hi = pts68.min(0), pts68.max(0)
    # Framed like the real data: a square about twice the landmark box, centred on it (with jitter).
    side = max(hi - lo) * rng.uniform(1.8, 2.2)
    centre = (lo + hi) / 2 + rng.uniform(-0.06, 0.06, 2) * side
    scale = size / side
    proj = (cam[:, :2] - centre) * scale + size / 2 - 0.5  # pixel centres on integers
    depth = cam[:, 2]
    pts = proj[:68]
    img = _background(rng, size)
    skin = SKIN[rng.integers(len(SKIN))] * rng.uniform(0.85, 1.1, 3)
    hair = HAIR[rng.integers(len(HAIR))]
    px = max(scale / 60.0, 0.5)  # one "model pixel": line widths follow the face size
    iod = scale * 1.0

    # Neck (behind the face), hair (behind the forehead), then the face itself.
    chin, jaw_l, jaw_r = pts[8], pts[5], pts[11]
    down = np.array([-np.sin(np.radians(pose[2])), np.cos(np.radians(pose[2]))]) * iod * 1.6
    neck = np.array([jaw_l, jaw_r, jaw_r + down, jaw_l + down]) * 0.75 + 0.25 * chin
    cv2.fillPoly(img, [_poly(neck)], tuple(float(c) for c in skin * 0.75), cv2.LINE_AA, _SHIFT)
    if rng.random() < 0.85:
        cv2.fillConvexPoly(
            img,
            _hull(np.concatenate([proj[68:], pts[[0, 1, 15, 16]]])),
            tuple(float(c) for c in hair),
            cv2.LINE_AA,
            _SHIFT,
        )
    face_outline = _hull(np.concatenate([pts[:17], proj[68:78], pts[27:36]]))
    # Shade only the face's bounding window (1 px of border for the anti-aliased edge).
    bx, by, bw, bh = cv2.boundingRect(face_outline >> _SHIFT)
    x0, y0 = max(bx - 1, 0), max(by - 1, 0)
    x1, y1 = min(bx + bw + 2, size), min(by + bh + 2, size)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, face_outline - np.array([x0, y0], np.int32) * _ONE, 255, cv2.LINE_AA, _SHIFT)
    # Shading: a light direction across the face plus darkening towards its outline (looks round).
    light = rng.normal(0, 1, 2)
    light /= np.linalg.norm(light) + 1e-9
    yy, xx = _grid(size)
    yy, xx = yy[y0:y1, x0:x1], xx[y0:y1, x0:x1]
    fc = pts[[27, 30, 33, 8]].mean(0)
    k = np.float32(rng.uniform(0.1, 0.35) / (iod * 1.5))
    grad = (xx * np.float32(light[0] * k) + yy * np.float32(light[1] * k)) + np.float32(1.0 - k * (fc @ light))
    edge = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    shade = (np.float32(0.62) + np.float32(0.38) * np.minimum(edge * np.float32(1 / (iod * 0.35)), 1.0)) * grad
    _blend(img[y0:y1, x0:x1], mask, skin[None, None, :] * shade[..., None])

    # Features far-to-near; a feature facing away from the camera is hidden by the face.
    normals = {
        "eye_r": (-0.45, 0.0, -1.0),
        "eye_l": (0.45, 0.0, -1.0),
        "nose": (0.0, 0.0, -1.0),
        "mouth": (0.0, 0.2, -1.0),
    }
    groups = {
        "eye_r": [*EYE_R, *BROW_R],
        "eye_l": [*EYE_L, *BROW_L],
        "nose": [*NOSE_BRIDGE, *NOSE_BASE],
        "mouth": [*LIPS_OUT],
    }
    order = sorted(groups, key=lambda g: -depth[groups[g]].mean())
    lip = np.array([rng.uniform(150, 210), rng.uniform(60, 110), rng.uniform(70, 110)], np.float32) * (
        0.6 + 0.4 * skin / 255
    )
    brow_c = tuple(float(c) for c in np.minimum(hair, skin * 0.45))
    for g in order:
        n = rot @ np.array(normals[g])
        facing = -n[2] / np.linalg.norm(n)
        if facing < 0.25:
            continue
        if g.startswith("eye"):
            eye, brow = (EYE_R, BROW_R) if g == "eye_r" else (EYE_L, BROW_L)
            cv2.polylines(
                img, [_poly(pts[list(brow)])], False, brow_c, max(1, int(round(2.2 * px))), cv2.LINE_AA, _SHIFT
            )
            e = pts[list(eye)]
            cv2.fillPoly(img, [_poly(e)], (235.0, 232.0, 225.0), cv2.LINE_AA, _SHIFT)
            # The iris is a disc clipped to the eye opening: masks on a small window around the eye.
            x0, y0 = np.maximum(np.floor(e.min(0)).astype(int) - 2, 0)
            x1, y1 = np.minimum(np.ceil(e.max(0)).astype(int) + 3, size)
            if x1 > x0 and y1 > y0:
                off = np.array([x0, y0])
                iris = np.zeros((y1 - y0, x1 - x0), np.uint8)
                cv2.circle(
                    iris, tuple(_poly(e.mean(0) - off)), max(int(0.11 * iod * _ONE), 4), 255, -1, cv2.LINE_AA, _SHIFT
                )
                emask = np.zeros_like(iris)
                cv2.fillPoly(emask, [_poly(e - off)], 255, cv2.LINE_AA, _SHIFT)
                iris_c = np.array([rng.uniform(30, 110), rng.uniform(20, 80), rng.uniform(10, 60)], np.float32)
                _blend(img[y0:y1, x0:x1], np.minimum(iris, emask), iris_c)
            cv2.polylines(img, [_poly(e)], True, (25.0, 18.0, 15.0), max(1, int(round(1.2 * px))), cv2.LINE_AA, _SHIFT)
        elif g == "nose":
            dark = tuple(float(c) for c in skin * 0.55)
            side_c = tuple(float(c) for c in skin * 0.8)
            cv2.fillConvexPoly(img, _hull(pts[[27, 31, 33, 35]]), side_c, cv2.LINE_AA, _SHIFT)
            cv2.polylines(
                img,
                [_poly(pts[list(NOSE_BRIDGE)])],
                False,
                tuple(float(c) for c in skin * 0.7),
                max(1, int(round(1.3 * px))),
                cv2.LINE_AA,
                _SHIFT,
            )
            cv2.polylines(
                img, [_poly(pts[[31, 32, 33, 34, 35]])], False, dark, max(1, int(round(1.6 * px))), cv2.LINE_AA, _SHIFT
            )
            cv2.circle(
                img,
                tuple(_poly(pts[30])),
                max(int(0.05 * iod * _ONE), 3),
                tuple(float(c) for c in np.minimum(skin * 1.1, 255)),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        else:
            cv2.fillPoly(img, [_poly(pts[list(LIPS_OUT)])], tuple(float(c) for c in lip), cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(img, [_poly(pts[list(LIPS_IN)])], tuple(float(c) for c in lip * 0.35), cv2.LINE_AA, _SHIFT)
            cv2.polylines(
                img,
                [_poly(pts[list(LIPS_IN)])],
                True,
                tuple(float(c) for c in lip * 0.5),
                max(1, int(round(px))),
                cv2.LINE_AA,
                _SHIFT,
            )
    # Jaw line shadow where the chin meets the neck, when the jaw faces the camera.
    cv2.polylines(
        img, [_poly(pts[3:14])], False, tuple(float(c) for c in skin * 0.6), max(1, int(round(px))), cv2.LINE_AA, _SHIFT
    )

    # Occluders, lighting, blur and noise: the last of them never move a label.
    if rng.random() < 0.25:
        p = pts[rng.integers(68)]
        r = rng.uniform(0.2, 0.5) * iod
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.ellipse(
                img,
                tuple(_poly(p)),
                (int(r * _ONE), int(r * rng.uniform(0.5, 1.5) * _ONE)),
                rng.uniform(0, 180),
                0,
                360,
                colour,
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        else:
            q = p + rng.normal(0, 1, 2) * r
            cv2.rectangle(img, tuple(_poly(p - r)), tuple(_poly(q + r)), colour, -1, cv2.LINE_AA, _SHIFT)
    gain = rng.uniform(0.6, 1.25) * rng.uniform(0.9, 1.1, 3)
    img = cv2.transform(img, np.c_[np.diag(gain), np.full(3, rng.uniform(-20, 20))])
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2) * size / 128)
    if rng.random() < 0.4:
        img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(rng.uniform(2, 10))
    out = np.empty((size, size, 3), np.uint8)
    np.clip(img, 0, 255, out=img)
    np.copyto(out, img, casting="unsafe")
    return out, pts.astype(np.float32), pose.astype(np.float32)


def render_synthetic(n: int, size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n faces in memory: (N x S x S x 3 uint8 RGB, N x 68 x 2 float32 pixel points, N x 3 [yaw, pitch, roll])."""
    images = np.empty((n, size, size, 3), np.uint8)
    points = np.empty((n, 68, 2), np.float32)
    poses = np.empty((n, 3), np.float32)
    for i in range(n):
        images[i], points[i], poses[i] = render_face(np.random.default_rng([seed, i]), size)
    return images, points, poses


def write_synthetic(out: Path, n: int, size: int = 128, seed: int = 0) -> list[Path]:
    """Write n faces as an iBUG .pts folder (PNG + .pts, 1-based) with poses.csv; returns the image paths.

    Names have no underscore (``s000000``), so every face is its own "photo" for grouped splits.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = ["name,yaw,pitch,roll"]
    paths = []
    for i in range(n):
        image, pts, pose = render_face(np.random.default_rng([seed, i]), size)
        name = f"s{i:06d}"
        path = out / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
        body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)
        (out / f"{name}.pts").write_text(f"version: 1\nn_points:  68\n{{\n{body}\n}}\n")
        rows.append(f"{name},{pose[0]:.3f},{pose[1]:.3f},{pose[2]:.3f}")
        paths.append(path)
    (out / "poses.csv").write_text("\n".join(rows) + "\n")
    return paths
