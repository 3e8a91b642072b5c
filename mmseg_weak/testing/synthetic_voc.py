"""Deterministic generator of a small synthetic PASCAL VOC 2012 + SBD-aug set.

The generated tree mirrors ``VOCdevkit/VOC2012`` exactly, so the stock
``mmseg`` ``PascalVOCDataset`` (and any box / image-level weak-label pipeline
reading the VOC XML annotations) can be pointed at it unchanged::

    out_dir/VOCdevkit/VOC2012/
        JPEGImages/<id>.jpg
        SegmentationClass/<id>.png       # train + val only, 1-px void band
        SegmentationClassAug/<id>.png    # every id, no void band
        Annotations/<id>.xml
        ImageSets/Segmentation/{train,val,trainval,aug}.txt

Every image holds 1-4 objects of five classes (VOC ids 1-5). Each class has
its own shape, colour family and texture; objects are jittered in size,
aspect, rotation, hue and brightness, may occlude one another and may be cut
by the image border. Backgrounds are cluttered with smooth colour fields,
pixel noise and distractor shapes whose colours overlap the class colours.

Image ``index`` is generated from ``np.random.default_rng([seed, index])``
only, so the output is byte-identical for a given seed whatever the number of
worker processes.
"""
from __future__ import annotations
import colorsys
import multiprocessing
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from ..utils.label_png import voc_palette, write_label_png

SYNTHETIC_CLASSES: Tuple[str, ...] = ('background', 'aeroplane', 'bicycle',
                                      'bird', 'boat', 'bottle')
"""Class names; the position in the tuple is the VOC class id."""

IGNORE_INDEX = 255
MIN_VISIBLE_PIXELS = 30
JPEG_QUALITY = 95
ID_PREFIX = '2012_'


VOC_PALETTE: List[Tuple[int, int, int]] = voc_palette(256)
"""The 256-entry PASCAL VOC colour map (index 255 is the void colour)."""

# Colour families in HSV: (hue centre, saturation range, value range).
_COLOR_FAMILIES: Dict[int, Tuple[float, Tuple[float, float],
                                 Tuple[float, float]]] = {
    1: (0.58, (0.25, 0.60), (0.70, 0.95)),  # aeroplane: steel / sky blue
    2: (0.33, (0.50, 0.90), (0.40, 0.80)),  # bicycle: green
    3: (0.08, (0.60, 0.90), (0.55, 0.90)),  # bird: orange / brown
    4: (0.99, (0.55, 0.90), (0.50, 0.90)),  # boat: red
    5: (0.78, (0.40, 0.80), (0.45, 0.85)),  # bottle: purple
}
_HUE_JITTER = 0.05


@dataclass
class SyntheticObject:
    """One visible object of a synthetic image.

    Attributes:
        label: VOC class id (1-5).
        bbox: ``(x1, y1, x2, y2)`` of the visible pixels, 0-based inclusive.
        truncated: Whether the visible pixels touch the image border.
        num_pixels: Number of visible pixels.
    """

    label: int
    bbox: Tuple[int, int, int, int]
    truncated: bool
    num_pixels: int

    @property
    def name(self) -> str:
        """VOC class name of the object."""
        return SYNTHETIC_CLASSES[self.label]


@dataclass
class SyntheticSample:
    """A rendered synthetic image with its annotations.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB image.
        label: ``(H, W)`` uint8 class-id map without void pixels.
        instances: ``(H, W)`` int32 map, ``k`` for the k-th object (1-based),
            0 for background.
        objects: Visible objects, in drawing (back to front) order.
    """

    image: np.ndarray
    label: np.ndarray
    instances: np.ndarray
    objects: List[SyntheticObject] = field(default_factory=list)

    def label_with_void(self) -> np.ndarray:
        """Return the label map with a 1-pixel void band on object boundaries.

        Object pixels with a 4-neighbour belonging to another instance (or to
        the background) are set to 255, like the boundary band of the
        ``SegmentationClass`` masks of PASCAL VOC.
        """
        label = self.label.copy()
        label[object_boundaries(self.instances)] = IGNORE_INDEX
        return label


@dataclass
class _Frame:
    """Pixel coordinates of an image expressed in an object's local frame."""

    u: np.ndarray
    v: np.ndarray


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _hsv_to_rgb(hue: float, sat: float, val: float) -> np.ndarray:
    """Convert one HSV colour (all in [0, 1]) to a float RGB in [0, 255]."""
    rgb = colorsys.hsv_to_rgb(hue % 1.0, float(np.clip(sat, 0, 1)),
                              float(np.clip(val, 0, 1)))
    return np.array(rgb, dtype=np.float32) * 255.0


def _family_color(rng: np.random.Generator, label: int) -> Tuple[float, float,
                                                                 float]:
    """Sample a jittered HSV colour from the colour family of ``label``."""
    hue, sat_range, val_range = _COLOR_FAMILIES[label]
    return (hue + rng.uniform(-_HUE_JITTER, _HUE_JITTER),
            rng.uniform(*sat_range), rng.uniform(*val_range))


def _local_frame(xs: np.ndarray, ys: np.ndarray, cx: float, cy: float,
                 angle: float) -> _Frame:
    """Rotate pixel coordinates into a frame centred at ``(cx, cy)``."""
    cos, sin = np.cos(angle), np.sin(angle)
    dx, dy = xs - cx, ys - cy
    return _Frame(u=dx * cos + dy * sin, v=-dx * sin + dy * cos)


def _convex_polygon(frame: _Frame,
                    vertices: Sequence[Tuple[float, float]]) -> np.ndarray:
    """Rasterise a convex polygon (vertices in either winding order)."""
    mask = np.ones(frame.u.shape, dtype=bool)
    pts = [(float(u), float(v)) for u, v in vertices]
    area2 = sum(u0 * v1 - u1 * v0
                for (u0, v0), (u1, v1) in zip(pts, pts[1:] + pts[:1]))
    if area2 < 0:
        pts = pts[::-1]
    for (u0, v0), (u1, v1) in zip(pts, pts[1:] + pts[:1]):
        cross = (u1 - u0) * (frame.v - v0) - (v1 - v0) * (frame.u - u0)
        mask &= cross >= 0
    return mask


def _two_tone(mask: np.ndarray, color_a: np.ndarray,
              color_b: np.ndarray) -> np.ndarray:
    """Return an ``(H, W, 3)`` texture: ``color_b`` where mask, else a."""
    return np.where(mask[..., None], color_b, color_a).astype(np.float32)


def object_boundaries(instances: np.ndarray) -> np.ndarray:
    """Find object pixels whose 4-neighbourhood leaves their instance.

    Args:
        instances: ``(H, W)`` instance-id map, 0 for background.

    Returns:
        Boolean ``(H, W)`` mask of the inner boundary of every object. The
        image border itself is not a boundary.
    """
    padded = np.pad(instances, 1, mode='edge')
    centre = padded[1:-1, 1:-1]
    differs = ((padded[:-2, 1:-1] != centre) | (padded[2:, 1:-1] != centre)
               | (padded[1:-1, :-2] != centre) | (padded[1:-1, 2:] != centre))
    return differs & (instances > 0)


# --------------------------------------------------------------------------
# Per-class shapes and textures
# --------------------------------------------------------------------------

_ShapeFn = Callable[[np.random.Generator, np.ndarray, np.ndarray, float],
                    Tuple[np.ndarray, np.ndarray]]


def _random_center(rng: np.random.Generator,
                   xs: np.ndarray) -> Tuple[float, float]:
    """Sample an object centre, mostly away from the very border."""
    h, w = xs.shape
    return rng.uniform(0.08, 0.92) * w, rng.uniform(0.08, 0.92) * h


def _aeroplane(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
               size: float) -> Tuple[np.ndarray, np.ndarray]:
    """Triangle of any orientation with stripes across its axis."""
    cx, cy = _random_center(rng, xs)
    frame = _local_frame(xs, ys, cx, cy, rng.uniform(0, 2 * np.pi))
    half_len, half_wid = size / 2, size * rng.uniform(0.28, 0.55)
    nose_off = rng.uniform(-0.25, 0.25) * half_wid
    mask = _convex_polygon(frame, [(-half_len, half_wid), (half_len, nose_off),
                                   (-half_len, -half_wid)])
    hue, sat, val = _family_color(rng, 1)
    period = size * rng.uniform(0.15, 0.3)
    stripes = np.sin(2 * np.pi * frame.u / period + rng.uniform(0, 6.3)) > 0
    texture = _two_tone(stripes, _hsv_to_rgb(hue, sat, val),
                        _hsv_to_rgb(hue, sat * 0.8, val * 0.55))
    return mask, texture


def _bicycle(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
             size: float) -> Tuple[np.ndarray, np.ndarray]:
    """Elliptical ring (annulus) with radial spokes."""
    cx, cy = _random_center(rng, xs)
    frame = _local_frame(xs, ys, cx, cy, rng.uniform(0, np.pi))
    rad_a = size / 2
    rad_b = rad_a * rng.uniform(0.7, 1.0)
    inner = rng.uniform(0.5, 0.72)
    dist = (frame.u / rad_a)**2 + (frame.v / rad_b)**2
    mask = (dist <= 1.0) & (dist >= inner**2)
    hue, sat, val = _family_color(rng, 2)
    spokes = np.sin(
        rng.integers(5, 10) * np.arctan2(frame.v, frame.u) +
        rng.uniform(0, 6.3)) > 0
    texture = _two_tone(spokes, _hsv_to_rgb(hue, sat, val),
                        _hsv_to_rgb(hue + 0.04, sat * 0.6, val * 0.6))
    return mask, texture


def _bird(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
          size: float) -> Tuple[np.ndarray, np.ndarray]:
    """Filled, rotated ellipse sprinkled with dark dots."""
    cx, cy = _random_center(rng, xs)
    frame = _local_frame(xs, ys, cx, cy, rng.uniform(0, np.pi))
    rad_a = size / 2
    rad_b = rad_a * rng.uniform(0.4, 0.75)
    mask = (frame.u / rad_a)**2 + (frame.v / rad_b)**2 <= 1.0
    hue, sat, val = _family_color(rng, 3)
    dots = np.zeros(xs.shape, dtype=bool)
    dot_radius = max(1.0, size * rng.uniform(0.03, 0.06))
    for _ in range(int(rng.integers(6, 15))):
        du, dv = rng.uniform(-rad_a, rad_a), rng.uniform(-rad_b, rad_b)
        dots |= (frame.u - du)**2 + (frame.v - dv)**2 <= dot_radius**2
    texture = _two_tone(dots, _hsv_to_rgb(hue, sat, val),
                        _hsv_to_rgb(hue, sat * 0.5, val * 0.3))
    return mask, texture


def _boat(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
          size: float) -> Tuple[np.ndarray, np.ndarray]:
    """Hull-like trapezoid (wide deck on top), tilted, checkerboard."""
    cx, cy = _random_center(rng, xs)
    frame = _local_frame(xs, ys, cx, cy, rng.uniform(-0.45, 0.45))
    half_top = size / 2
    half_bot = half_top * rng.uniform(0.45, 1.0)
    half_h = size * rng.uniform(0.18, 0.32)
    mask = _convex_polygon(frame, [(-half_top, -half_h), (-half_bot, half_h),
                                   (half_bot, half_h), (half_top, -half_h)])
    hue, sat, val = _family_color(rng, 4)
    cell = max(2.0, size * rng.uniform(0.08, 0.15))
    checker = (np.floor(frame.u / cell) + np.floor(frame.v / cell)) % 2 == 1
    texture = _two_tone(checker, _hsv_to_rgb(hue, sat, val),
                        _hsv_to_rgb(hue, sat * 0.25, min(1.0, val * 1.15)))
    return mask, texture


def _bottle(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
            size: float) -> Tuple[np.ndarray, np.ndarray]:
    """Upright rounded bar with a neck and a vertical colour gradient."""
    cx, cy = _random_center(rng, xs)
    frame = _local_frame(xs, ys, cx, cy, rng.uniform(-0.35, 0.35))
    half_len = size / 2
    radius = size * rng.uniform(0.13, 0.22)
    neck_len = size * rng.uniform(0.2, 0.35)
    body_top = -half_len + neck_len + radius
    body_bot = half_len - radius
    # Capsule body: distance to the vertical segment [body_top, body_bot].
    seg_v = np.clip(frame.v, body_top, body_bot)
    body = frame.u**2 + (frame.v - seg_v)**2 <= radius**2
    neck_half = radius * rng.uniform(0.3, 0.5)
    neck = ((np.abs(frame.u) <= neck_half) & (frame.v >= -half_len)
            & (frame.v <= body_top))
    mask = body | neck
    hue, sat, val = _family_color(rng, 5)
    top = _hsv_to_rgb(hue, sat * 0.6, min(1.0, val * 1.2))
    bottom = _hsv_to_rgb(hue + 0.03, sat, val * 0.45)
    t = np.clip((frame.v + half_len) / (2 * half_len), 0, 1)[..., None]
    shade = 1.0 - 0.25 * np.clip(np.abs(frame.u) / radius, 0, 1)[..., None]
    texture = ((1 - t) * top + t * bottom) * shade
    return mask, texture.astype(np.float32)


_SHAPES: Dict[int, _ShapeFn] = {
    1: _aeroplane,
    2: _bicycle,
    3: _bird,
    4: _boat,
    5: _bottle,
}

# --------------------------------------------------------------------------
# Background clutter
# --------------------------------------------------------------------------


def _smooth_field(rng: np.random.Generator, h: int, w: int, grid: int,
                  channels: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a tiny random grid upsampled."""
    coarse = rng.uniform(0, 1, (grid, grid, channels)).astype(np.float32)
    smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return smooth.reshape(h, w, channels)


def _background(rng: np.random.Generator, xs: np.ndarray,
                ys: np.ndarray) -> np.ndarray:
    """Smooth colour field + linear gradient + mid-frequency mottling."""
    h, w = xs.shape
    base = _hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.05, 0.6),
                       rng.uniform(0.25, 0.85))
    img = np.broadcast_to(base, (h, w, 3)).astype(np.float32)
    img = img + (_smooth_field(rng, h, w, int(rng.integers(2, 5)), 3) -
                 0.5) * rng.uniform(60, 160)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (xs * np.cos(angle) + ys * np.sin(angle)) / max(h, w)
    img = img + (ramp[..., None] * rng.uniform(-60, 60, 3)).astype(np.float32)
    mottle = _smooth_field(rng, h, w, int(rng.integers(8, 16)), 1) - 0.5
    return img + mottle * rng.uniform(10, 50)


def _distractor_color(rng: np.random.Generator) -> np.ndarray:
    """A clutter colour; half the time borrowed from a class family."""
    if rng.uniform() < 0.5:
        hue, sat, val = _family_color(rng, int(rng.integers(1, 6)))
    else:
        hue, sat, val = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(
            0.15, 1)
    return _hsv_to_rgb(hue, sat, val)


def _draw_distractors(rng: np.random.Generator, img: np.ndarray,
                      xs: np.ndarray, ys: np.ndarray) -> None:
    """Paint non-class clutter (lines, blobs, squiggles, crosses) in place."""
    h, w = xs.shape
    side = min(h, w)
    canvas = np.ascontiguousarray(img)
    for _ in range(int(rng.integers(2, 7))):
        kind = int(rng.integers(0, 4))
        color = tuple(float(c) for c in _distractor_color(rng))
        if kind == 0:  # straight line
            p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(canvas, p0, p1, color, int(rng.integers(1, 4)))
        elif kind == 1:  # irregular blob: thresholded local smooth noise
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            radius = side * rng.uniform(0.08, 0.25)
            field_ = _smooth_field(rng, h, w, 6, 1)[..., 0]
            dist = np.hypot(xs - cx, ys - cy) / radius
            blob = field_ + 0.35 * (1 - dist) > 0.75
            canvas[blob] = color
        elif kind == 2:  # squiggle
            num_pts = int(rng.integers(3, 7))
            pts = np.stack(
                [rng.uniform(0, w, num_pts), rng.uniform(0, h, num_pts)], 1)
            cv2.polylines(canvas, [pts.astype(np.int32).reshape(-1, 1, 2)],
                          False, color, int(rng.integers(1, 3)))
        else:  # cross
            cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
            arm = int(side * rng.uniform(0.05, 0.15))
            thick = int(rng.integers(1, 4))
            cv2.line(canvas, (cx - arm, cy), (cx + arm, cy), color, thick)
            cv2.line(canvas, (cx, cy - arm), (cx, cy + arm), color, thick)
    img[...] = canvas


# --------------------------------------------------------------------------
# Object placement and rendering
# --------------------------------------------------------------------------


def _visible_object(instances: np.ndarray, index: int,
                    label: int) -> SyntheticObject:
    """Describe the visible pixels of instance ``index``."""
    h, w = instances.shape
    ys_, xs_ = np.nonzero(instances == index)
    x1, x2, y1, y2 = int(xs_.min()), int(xs_.max()), int(ys_.min()), int(
        ys_.max())
    truncated = x1 == 0 or y1 == 0 or x2 == w - 1 or y2 == h - 1
    return SyntheticObject(label=label, bbox=(x1, y1, x2, y2),
                           truncated=truncated, num_pixels=len(xs_))


def _place_objects(
    rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray
) -> Tuple[np.ndarray, List[int], List[np.ndarray]]:
    """Sample 1-4 objects, each keeping >= MIN_VISIBLE_PIXELS visible.

    A candidate that would itself stay (or leave an earlier object) with
    fewer visible pixels than ``MIN_VISIBLE_PIXELS`` is discarded and a new
    one is sampled, so masks and XML always agree.

    Returns:
        The instance map, the class id of each instance and its texture.
    """
    h, w = xs.shape
    side = min(h, w)
    target = int(rng.choice([1, 2, 3, 4], p=[0.2, 0.3, 0.3, 0.2]))
    instances = np.zeros((h, w), dtype=np.int32)
    labels: List[int] = []
    textures: List[np.ndarray] = []
    attempts = 0
    while len(labels) < target and (attempts < 8 * target or not labels):
        attempts += 1
        label = int(rng.integers(1, len(SYNTHETIC_CLASSES)))
        # 15%-60% of the image side, skewed towards larger objects.
        size = side * (0.15 + 0.45 * np.sqrt(rng.uniform()))
        mask, texture = _SHAPES[label](rng, xs, ys, size)
        candidate = instances.copy()
        candidate[mask] = len(labels) + 1
        counts = np.bincount(candidate.ravel(), minlength=len(labels) + 2)
        if counts[1:len(labels) + 2].min() < MIN_VISIBLE_PIXELS:
            continue
        instances = candidate
        labels.append(label)
        textures.append(texture)
    return instances, labels, textures


def render_sample(seed: int, index: int, min_size: int = 96,
                  max_size: int = 128) -> SyntheticSample:
    """Render synthetic image ``index`` of the dataset seeded with ``seed``.

    Only ``np.random.default_rng([seed, index])`` is used, so the sample does
    not depend on the order or process in which images are generated.

    Args:
        seed: Dataset seed.
        index: 0-based image index.
        min_size: Smallest image side (inclusive).
        max_size: Largest image side (inclusive).

    Returns:
        The rendered sample.
    """
    rng = np.random.default_rng([seed, index])
    h = int(rng.integers(min_size, max_size + 1))
    w = int(rng.integers(min_size, max_size + 1))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img = _background(rng, xs, ys)
    _draw_distractors(rng, img, xs, ys)
    instances, labels, textures = _place_objects(rng, xs, ys)
    for k, texture in enumerate(textures, start=1):
        visible = instances == k
        shade = rng.uniform(0.85, 1.15)  # per-instance brightness jitter
        img[visible] = texture[visible] * shade
    img += rng.normal(0, rng.uniform(4, 12), img.shape).astype(np.float32)
    image = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    lut = np.array([0] + labels, dtype=np.uint8)
    objects = [
        _visible_object(instances, k, lab)
        for k, lab in enumerate(labels, start=1)
    ]
    return SyntheticSample(image=image, label=lut[instances],
                           instances=instances, objects=objects)


# --------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------


def _voc_xml(image_id: str, width: int, height: int, segmented: bool,
             objects: Sequence[SyntheticObject]) -> str:
    """Format a VOC annotation (boxes 1-based inclusive, VOC convention)."""
    lines = [
        '<annotation>', '\t<folder>VOC2012</folder>',
        f'\t<filename>{image_id}.jpg</filename>', '\t<source>',
        '\t\t<database>mmseg_weak synthetic VOC</database>', '\t</source>',
        '\t<size>', f'\t\t<width>{width}</width>',
        f'\t\t<height>{height}</height>', '\t\t<depth>3</depth>', '\t</size>',
        f'\t<segmented>{int(segmented)}</segmented>'
    ]
    for obj in objects:
        x1, y1, x2, y2 = obj.bbox
        lines += [
            '\t<object>', f'\t\t<name>{obj.name}</name>',
            '\t\t<pose>Unspecified</pose>',
            f'\t\t<truncated>{int(obj.truncated)}</truncated>',
            '\t\t<difficult>0</difficult>', '\t\t<bndbox>',
            f'\t\t\t<xmin>{x1 + 1}</xmin>', f'\t\t\t<ymin>{y1 + 1}</ymin>',
            f'\t\t\t<xmax>{x2 + 1}</xmax>', f'\t\t\t<ymax>{y2 + 1}</ymax>',
            '\t\t</bndbox>', '\t</object>'
        ]
    lines.append('</annotation>')
    return '\n'.join(lines) + '\n'


def _save_label_png(path: str, label: np.ndarray) -> None:
    """A label map as a VOC-palette PNG (``SegmentationClass`` format)."""
    write_label_png(path, label, VOC_PALETTE)


def _write_sample(task: Tuple[str, int, str, bool, int, int, int]) -> int:
    """Render one image and write all of its files; return #objects."""
    root, index, image_id, segmented, seed, min_size, max_size = task
    sample = render_sample(seed, index, min_size, max_size)
    h, w = sample.label.shape
    Image.fromarray(sample.image).save(
        os.path.join(root, 'JPEGImages', f'{image_id}.jpg'),
        quality=JPEG_QUALITY)
    _save_label_png(
        os.path.join(root, 'SegmentationClassAug', f'{image_id}.png'),
        sample.label)
    if segmented:
        _save_label_png(
            os.path.join(root, 'SegmentationClass', f'{image_id}.png'),
            sample.label_with_void())
    with open(os.path.join(root, 'Annotations', f'{image_id}.xml'), 'w',
              encoding='utf-8', newline='\n') as f:
        f.write(_voc_xml(image_id, w, h, segmented, sample.objects))
    return len(sample.objects)


def _split_ids(num_aug: int, num_train: int, num_val: int,
               seed: int) -> Dict[str, List[str]]:
    """Randomly assign ids to aug / train / val (sorted lists)."""
    total = num_aug + num_val
    ids = [f'{ID_PREFIX}{i + 1:06d}' for i in range(total)]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, )))
    order = rng.permutation(total)
    val = sorted(ids[i] for i in order[:num_val])
    aug_idx = order[num_val:]
    aug = sorted(ids[i] for i in aug_idx)
    train = sorted(ids[i] for i in aug_idx[:num_train])
    return {
        'train': train,
        'val': val,
        'trainval': sorted(train + val),
        'aug': aug,
    }


def _write_lists(root: str, splits: Dict[str, List[str]]) -> None:
    """Write ``ImageSets/Segmentation/<split>.txt``."""
    list_dir = os.path.join(root, 'ImageSets', 'Segmentation')
    for name, ids in splits.items():
        with open(os.path.join(list_dir, f'{name}.txt'), 'w',
                  encoding='utf-8', newline='\n') as f:
            f.write(''.join(f'{i}\n' for i in ids))


def _pool_context() -> multiprocessing.context.BaseContext:
    """Prefer ``fork`` (cheap, no re-import) where the platform has it."""
    if 'fork' in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context('fork')
    return multiprocessing.get_context()


def generate_synthetic_voc(out_dir: str,
                           num_aug: int = 400,
                           num_train: int = 100,
                           num_val: int = 100,
                           seed: int = 0,
                           min_size: int = 96,
                           max_size: int = 128,
                           workers: int = 1) -> Dict[str, object]:
    """Generate a synthetic dataset in the PASCAL VOC 2012 + SBD-aug layout.

    Args:
        out_dir: Output directory; files go to
            ``out_dir/VOCdevkit/VOC2012``. Existing files are overwritten,
            other files are left alone.
        num_aug: Number of images in ``aug.txt`` (the "trainaug" list).
        num_train: Number of ``aug`` images that also form ``train.txt``
            (fine labels in ``SegmentationClass``).
        num_val: Number of validation images (disjoint from ``aug``).
        seed: Dataset seed; the same seed gives byte-identical files.
        min_size: Smallest image side.
        max_size: Largest image side.
        workers: Number of processes; the output does not depend on it.

    Returns:
        Dict with the sorted id lists ``'train'``, ``'val'``, ``'trainval'``,
        ``'aug'``, the VOC2012 root path ``'data_root'`` and the total
        number of objects ``'num_objects'``.

    Raises:
        ValueError: If the counts or sizes are inconsistent.
    """
    if num_aug < 1 or num_val < 0 or not 0 <= num_train <= num_aug:
        raise ValueError('need num_aug >= 1, num_val >= 0 and '
                         f'0 <= num_train <= num_aug, got {num_aug=}, '
                         f'{num_train=}, {num_val=}')
    if not 16 <= min_size <= max_size:
        raise ValueError(f'need 16 <= min_size <= max_size, got '
                         f'{min_size=}, {max_size=}')
    root = os.path.join(out_dir, 'VOCdevkit', 'VOC2012')
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                'Annotations', os.path.join('ImageSets', 'Segmentation')):
        os.makedirs(os.path.join(root, sub), exist_ok=True)

    splits = _split_ids(num_aug, num_train, num_val, seed)
    segmented = set(splits['trainval'])
    all_ids = sorted(splits['aug'] + splits['val'])
    tasks = [(root, int(image_id[len(ID_PREFIX):]) - 1, image_id,
              image_id in segmented, seed, min_size, max_size)
             for image_id in all_ids]
    if workers > 1:
        with _pool_context().Pool(workers) as pool:
            counts = pool.map(_write_sample, tasks, chunksize=8)
    else:
        counts = [_write_sample(task) for task in tasks]
    _write_lists(root, splits)
    result: Dict[str, object] = dict(splits)
    result['data_root'] = root
    result['num_objects'] = int(sum(counts))
    return result
