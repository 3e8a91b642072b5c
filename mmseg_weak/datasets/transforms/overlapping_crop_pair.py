"""Two overlapping crops of one unlabeled image (contextual augmentation).

`Lai et al., Semi-supervised Semantic Segmentation with Directional
Context-aware Consistency, CVPR 2021 <https://arxiv.org/abs/2106.14133>`_,
Sec. 3.1 and 4.1: from each randomly resized unlabeled image two patches
``x_u1`` and ``x_u2`` are cropped whose IoU lies in ``[0.1, 1.0]``; then each
patch is mirrored and photometrically augmented on its own. The consistency
loss compares the two patches' features on their overlapping region, so every
view must know where that region lies in its own pixels.

The unlabeled pipeline is::

    LoadImageFromFile -> RandomResize -> OverlappingCropPair ->
    mmdet.MultiBranch(branch_field=['sup', 'view1', 'view2'],
                      view1=[SelectCropView(index=0), <photometric>,
                             PackWeakSegInputs(meta_keys=... 'overlap_box')],
                      view2=[SelectCropView(index=1), ...])

:class:`OverlappingCropPair` only *chooses* the two windows (shared by both
branches); :class:`SelectCropView` cuts one of them out, flips it and records
the overlap in that view's final pixel coordinates. Doing the flip in the same
transform that records the box keeps the two consistent by construction (a
separate ``RandomFlip`` would have to be followed by a box update that a
config could forget).

Stride alignment (as in the authors' code): the offset between the two
windows is a multiple of ``stride`` in x and y, and the crop size must be a
multiple of ``stride`` too. Then the overlap box of each view, flipped or not,
has corners on the ``stride`` grid, so a model whose features have that
output stride takes the overlap features exactly as
``feat[:, y1 // s:y2 // s, x1 // s:x2 // s]`` (flipping that patch back with
``torch.flip(patch, dims=(-1,))`` when the view's ``flip`` is true), and cell
``(i, j)`` of view 1's patch and of view 2's patch cover the same source
pixels.
"""
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS

from ...utils.choices import check_choice

#: results keys written by :class:`OverlappingCropPair`
WINDOWS_KEY = 'crop_pair_windows'
OVERLAPS_KEY = 'crop_pair_overlaps'


def window_iou(win1: Sequence[int], win2: Sequence[int]) -> float:
    """IoU of two ``(x1, y1, x2, y2)`` windows (``x2``/``y2`` exclusive)."""
    iw = max(0, min(win1[2], win2[2]) - max(win1[0], win2[0]))
    ih = max(0, min(win1[3], win2[3]) - max(win1[1], win2[1]))
    inter = iw * ih
    area1 = (win1[2] - win1[0]) * (win1[3] - win1[1])
    area2 = (win2[2] - win2[0]) * (win2[3] - win2[1])
    return inter / float(area1 + area2 - inter)


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(
            isinstance(v, (int, np.integer)) and v > 0 for v in value):
        raise ValueError(f'{name} must be a positive int or (h, w) pair of '
                         f'positive ints, got {value!r}')
    return int(value[0]), int(value[1])


@TRANSFORMS.register_module()
class OverlappingCropPair(BaseTransform):
    """Choose two stride-aligned crop windows whose IoU lies in a range.

    Both windows have size ``crop_size``; window 1 is uniform over the image,
    window 2 is uniform over the positions whose offset to window 1 is a
    multiple of ``stride`` in x and y; a pair is kept when its IoU lies in
    ``iou_range`` (both ends included), otherwise both are drawn again, up to
    ``max_tries`` times (the authors keep window 1 and redraw only window 2,
    50 times; redrawing both also recovers when window 1 was drawn where it
    has no valid partner).

    Fallback when no pair of the ``max_tries`` is valid: ``'identical'``
    (default, as the authors' code) uses window 1 twice — IoU 1, i.e. only
    the low-level augmentations differ between the views, even when ``1.0``
    is outside ``iou_range``; ``'raise'`` raises a ``RuntimeError`` naming the
    image. ``crop_pair_fallback`` tells which happened.

    An image smaller than the crop (in h or w) is treated as padded at the
    bottom / right up to the crop size (``SelectCropView`` pads): in that
    dimension both windows start at 0. The overlap is clipped to the real
    image (padding is never part of it) and its width and height are then
    rounded *down* to multiples of ``stride``, so it always starts and ends
    on the stride grid of both views; a real image narrower or lower than
    ``stride`` pixels has no such overlap and raises a ``ValueError``.

    The image itself is not changed; the pair is shared by the branches of a
    following ``mmdet.MultiBranch``.

    Required Keys:

    - img (only its shape is read)
    - img_path (optional, named in errors)

    Added Keys:

    - crop_pair_windows (np.ndarray): ``(2, 4)`` int64, the windows
      ``(x1, y1, x2, y2)`` (``x2``/``y2`` exclusive) in image pixels; they
      reach past the right / bottom edge where the image is padded.
    - crop_pair_overlaps (np.ndarray): ``(2, 4)`` int64, row ``i`` = the
      overlap region in window ``i``'s own pixels (before any flip).
    - crop_pair_iou (float): IoU of the two windows.
    - crop_pair_fallback (bool): Whether the fallback pair was used.

    Args:
        crop_size (int | tuple[int, int]): ``(h, w)`` of both crops; each
            must be a multiple of ``stride``.
        iou_range (tuple[float, float]): Allowed IoU of the two windows,
            ``0 < low <= high <= 1``. Defaults to ``(0.1, 1.0)`` (paper).
        stride (int): Output stride of the features compared on the overlap.
            Defaults to 8.
        max_tries (int): Number of pairs drawn before the fallback.
            Defaults to 50 (authors' code).
        fallback (str): ``'identical'`` or ``'raise'``, see above.
    """

    def __init__(self,
                 crop_size: Union[int, Tuple[int, int]],
                 iou_range: Tuple[float, float] = (0.1, 1.0),
                 stride: int = 8,
                 max_tries: int = 50,
                 fallback: str = 'identical') -> None:
        super().__init__()
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f'stride must be a positive int, got {stride!r}')
        self.crop_size = _pair(crop_size, 'crop_size')
        if any(c % stride for c in self.crop_size):
            raise ValueError(
                f'crop_size {self.crop_size} must be a multiple of stride '
                f'{stride}: otherwise the overlap of a flipped view is not on '
                'the feature grid and no feature cell maps to the same source '
                'pixels in both views')
        low, high = (float(v) for v in iou_range)
        if not 0 < low <= high <= 1:
            raise ValueError(f'iou_range must satisfy 0 < low <= high <= 1, '
                             f'got {tuple(iou_range)}')
        if not isinstance(max_tries, int) or max_tries < 1:
            raise ValueError(
                f'max_tries must be a positive int, got {max_tries!r}')
        check_choice('fallback', fallback, ('identical', 'raise'))
        self.iou_range = (low, high)
        self.stride = stride
        self.max_tries = max_tries
        self.fallback = fallback

    @cache_randomness
    def _draw_pairs(self, max_y: int, max_x: int) -> np.ndarray:
        """``max_tries`` candidate pairs ``(y1, x1, y2, x2)`` of top-left
        corners, window 2 aligned to window 1 on the stride grid."""
        n, s = self.max_tries, self.stride
        y1 = np.random.randint(0, max_y + 1, n)
        x1 = np.random.randint(0, max_x + 1, n)
        # aligned positions of window 2: p1 + k*s within [0, max]
        ky = np.random.randint(-(y1 // s), (max_y - y1) // s + 1)
        kx = np.random.randint(-(x1 // s), (max_x - x1) // s + 1)
        return np.stack([y1, x1, y1 + ky * s, x1 + kx * s], axis=1)

    def _overlap(self, win1: np.ndarray, win2: np.ndarray, img_h: int,
                 img_w: int, img_path: Optional[str]) -> np.ndarray:
        """Overlap of the two windows inside the real image, cut to stride
        multiples, in each window's pixels: ``(2, 4)``."""
        s = self.stride
        x1 = max(win1[0], win2[0])
        y1 = max(win1[1], win2[1])
        w = min(win1[2], win2[2], img_w) - x1
        h = min(win1[3], win2[3], img_h) - y1
        w, h = w // s * s, h // s * s
        if w <= 0 or h <= 0:
            raise ValueError(
                f'{img_path or "image"}: {img_h}x{img_w} pixels after '
                f'resizing leave no {s}x{s} overlap (stride {s}); the image '
                'is smaller than the stride')
        box = np.array([x1, y1, x1 + w, y1 + h], dtype=np.int64)
        return np.stack([box - np.tile(win1[:2], 2),
                         box - np.tile(win2[:2], 2)])

    def transform(self, results: dict) -> dict:
        img_h, img_w = results['img'].shape[:2]
        crop_h, crop_w = self.crop_size
        max_y, max_x = max(img_h - crop_h, 0), max(img_w - crop_w, 0)
        pairs = self._draw_pairs(max_y, max_x)
        dy = np.abs(pairs[:, 0] - pairs[:, 2])
        dx = np.abs(pairs[:, 1] - pairs[:, 3])
        inter = (np.clip(crop_h - dy, 0, None) *
                 np.clip(crop_w - dx, 0, None)).astype(np.float64)
        ious = inter / (2.0 * crop_h * crop_w - inter)
        valid = np.flatnonzero((ious >= self.iou_range[0])
                               & (ious <= self.iou_range[1]))
        fallback = valid.size == 0
        if fallback:
            if self.fallback == 'raise':
                raise RuntimeError(
                    f'{results.get("img_path", "image")}: no pair of '
                    f'{crop_h}x{crop_w} crops with IoU in {self.iou_range} '
                    f'aligned to stride {self.stride} found in '
                    f'{self.max_tries} tries on a {img_h}x{img_w} image')
            y1, x1 = pairs[0, :2]
            y2, x2 = y1, x1
        else:
            y1, x1, y2, x2 = pairs[valid[0]]
        windows = np.array([[x1, y1, x1 + crop_w, y1 + crop_h],
                            [x2, y2, x2 + crop_w, y2 + crop_h]],
                           dtype=np.int64)
        results[WINDOWS_KEY] = windows
        results[OVERLAPS_KEY] = self._overlap(windows[0], windows[1], img_h,
                                              img_w, results.get('img_path'))
        results['crop_pair_iou'] = window_iou(windows[0], windows[1])
        results['crop_pair_fallback'] = bool(fallback)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'iou_range={self.iou_range}, stride={self.stride}, '
                f'max_tries={self.max_tries}, fallback={self.fallback!r})')


@TRANSFORMS.register_module()
class SelectCropView(BaseTransform):
    """Cut out one window of an :class:`OverlappingCropPair`, flip it at
    random and record where the two windows' overlap lies in it.

    The crop is padded at the bottom / right to the crop size where the
    window reaches past the image (``pad_val`` for the image, ``seg_pad_val``
    for segmentation maps). With probability ``flip_prob`` the view is
    mirrored horizontally (image and every map of ``seg_fields``) and its
    overlap box with it: ``(W - x2, y1, W - x1, y2)``. Each view draws its
    own flip. ``flip`` / ``flip_direction`` describe this per-view flip (any
    flip of the whole image before :class:`OverlappingCropPair` is shared by
    both views and does not matter for the overlap).

    Boxes are not cropped: a sample with ``gt_bboxes`` raises ``ValueError``.

    Required Keys:

    - img
    - crop_pair_windows, crop_pair_overlaps (from
      :class:`OverlappingCropPair`)
    - gt_seg_map and other ``seg_fields`` (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map and other ``seg_fields``

    Added Keys:

    - overlap_box (tuple[int]): ``(x1, y1, x2, y2)``, ``x2``/``y2``
      exclusive, the overlap of the two windows in this view's pixels after
      its flip; corners are multiples of the pair's ``stride``.
    - crop_window (tuple[int]): This view's window ``(x1, y1, x2, y2)`` in
      the (resized) image, before the flip.
    - flip (bool), flip_direction (str | None): ``'horizontal'`` when this
      view was mirrored, else ``False`` / ``None``.

    Args:
        index (int): Which window: 0 (``view1``) or 1 (``view2``).
        flip_prob (float): Probability of the horizontal flip. Defaults to
            0.5 (paper: random mirror).
        pad_val (float): Image padding value. Defaults to 0.
        seg_pad_val (int): Segmentation map padding value. Defaults to 255.
    """

    def __init__(self,
                 index: int,
                 flip_prob: float = 0.5,
                 pad_val: float = 0,
                 seg_pad_val: int = 255) -> None:
        super().__init__()
        if index not in (0, 1):
            raise ValueError(f'index must be 0 or 1, got {index!r}')
        if not 0 <= flip_prob <= 1:
            raise ValueError(f'flip_prob must be in [0, 1], got {flip_prob}')
        self.index = index
        self.flip_prob = flip_prob
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    @cache_randomness
    def _do_flip(self) -> bool:
        return bool(np.random.rand() < self.flip_prob)

    @staticmethod
    def _cut(array: np.ndarray, window: np.ndarray, pad_val) -> np.ndarray:
        x1, y1, x2, y2 = (int(v) for v in window)
        crop = array[y1:y2, x1:x2]
        if crop.shape[:2] != (y2 - y1, x2 - x1):
            crop = mmcv.impad(crop, shape=(y2 - y1, x2 - x1), pad_val=pad_val)
        return np.ascontiguousarray(crop)

    def transform(self, results: dict) -> dict:
        if WINDOWS_KEY not in results or OVERLAPS_KEY not in results:
            raise KeyError(f'{results.get("img_path", "sample")}: '
                           f'SelectCropView needs {WINDOWS_KEY!r} and '
                           f'{OVERLAPS_KEY!r}; put OverlappingCropPair before '
                           'the MultiBranch that holds SelectCropView')
        if results.get('gt_bboxes') is not None:
            raise ValueError(f'{results.get("img_path", "sample")}: '
                             'SelectCropView does not crop gt_bboxes; '
                             'unlabeled views carry no boxes')
        window = results[WINDOWS_KEY][self.index]
        box = results[OVERLAPS_KEY][self.index].copy()
        seg_keys = set(results.get('seg_fields', []))
        if 'gt_seg_map' in results:
            seg_keys.add('gt_seg_map')
        flip = self._do_flip()
        img = self._cut(results['img'], window, self.pad_val)
        if flip:
            img = np.ascontiguousarray(mmcv.imflip(img, 'horizontal'))
            width = img.shape[1]
            box[0], box[2] = width - box[2], width - box[0]
        results['img'] = img
        for key in seg_keys:
            seg = self._cut(results[key], window, self.seg_pad_val)
            if flip:
                seg = np.ascontiguousarray(mmcv.imflip(seg, 'horizontal'))
            results[key] = seg
        results['img_shape'] = img.shape[:2]
        results['overlap_box'] = tuple(int(v) for v in box)
        results['crop_window'] = tuple(int(v) for v in window)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(index={self.index}, '
                f'flip_prob={self.flip_prob}, pad_val={self.pad_val}, '
                f'seg_pad_val={self.seg_pad_val})')
