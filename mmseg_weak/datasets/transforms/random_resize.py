"""Scale / crop augmentations of the papers' reference implementations that
MMSeg and mmcv do not offer.

- :class:`RandomLongSideResize`: the longer image side becomes a random
  integer drawn uniformly from ``[min, max]`` (aspect ratio kept), as the
  data loaders of `Lai et al., CVPR 2021 <https://arxiv.org/abs/2106.14133>`_
  (Context-Aware-Consistency, ``base/base_dataset.py`` ``_resize`` for the
  labeled images: ``randint(0.5 * base_size, 2.0 * base_size)``;
  ``dataloaders/voc.py`` / ``city.py`` for the unlabeled pairs:
  ``randint(0.8 * base_size, 2.0 * base_size)``). MMSeg's ``RandomResize``
  draws a ratio of a fixed ``scale`` instead (VOC with ``scale=(2048, 512)``,
  ``ratio_range=(0.5, 2.0)``: long side 341-1365 px for a 500x375 image).
- :class:`RandomResizedCrop`: torchvision's ``RandomResizedCrop`` (a window
  of a random fraction of the image *area* and a random aspect ratio,
  resized to a fixed size) with boxes and segmentation maps, as the training
  transform of `Araslanov & Roth, CVPR 2020
  <https://arxiv.org/abs/2005.08104>`_ (1-stage-wseg,
  ``datasets/transforms.py`` ``MaskRandResizedCrop``: scale (0.9, 1.0),
  bicubic image, nearest mask).

- :class:`PaddedRandomCrop`: a random ``crop_size`` window of the image
  padded at the bottom / right to ``crop_size`` when smaller, the labeled
  crop of the CAC loaders (``base/base_dataset.py`` ``_crop``: pad with the
  mean colour / 255, then crop), so that every crop has the crop size
  (MMSeg's ``RandomCrop`` returns smaller crops of smaller images).

The first two delegate the resizing to MMSeg's (mmcv's) ``Resize`` with a
computed ``scale``, so the image, ``gt_bboxes``, every ``seg_fields`` map and
the ``scale_factor`` / ``img_shape`` meta stay consistent exactly as with
``Resize``; the last one is MMSeg's ``RandomCrop`` followed by mmcv's
``Pad``.
"""
import math
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS

from ...utils.choices import check_choice
from .geometric import crop_boxes

__all__ = [
    'RandomLongSideResize', 'RandomResizedCrop', 'PaddedRandomCrop',
    'long_side_size'
]


def long_side_size(height: int, width: int,
                   long_side: int) -> Tuple[int, int]:
    """``(h, w)`` of an image resized so that its longer side is
    ``long_side``, the other side rounded half up (``int(x + 0.5)``) as in
    the CAC reference loaders; a square image becomes
    ``long_side x long_side``."""
    if height > width:
        return long_side, int(1.0 * long_side * width / height + 0.5)
    return int(1.0 * long_side * height / width + 0.5), long_side


def _resize_seg_fields(results: dict, seg: dict, backend: str) -> None:
    """Resize the maps in ``seg`` (taken out of ``results`` before the image
    resize) to ``results['img_shape']`` with nearest neighbours."""
    h, w = results['img_shape'][:2]
    for key, value in seg.items():
        results[key] = mmcv.imresize(
            value, (w, h), interpolation='nearest', backend=backend)


def _pop_seg_fields(results: dict) -> dict:
    keys = list(results.get('seg_fields', []))
    if 'gt_seg_map' in results and 'gt_seg_map' not in keys:
        keys.append('gt_seg_map')
    return {
        key: results.pop(key)
        for key in keys if results.get(key, None) is not None
    }


class _DelegatedResize(BaseTransform):
    """Shared part: a ``Resize`` (``keep_ratio=False``) to a computed scale,
    segmentation maps optionally through another backend."""

    def __init__(self,
                 interpolation: str = 'bicubic',
                 backend: str = 'cv2',
                 seg_backend: Optional[str] = None,
                 resize_type: str = 'Resize',
                 **resize_kwargs) -> None:
        super().__init__()
        seg_backend = seg_backend or backend
        check_choice('backend', backend, ('cv2', 'pillow'))
        check_choice('seg_backend', seg_backend, ('cv2', 'pillow'))
        self.interpolation = interpolation
        self.backend = backend
        self.seg_backend = seg_backend
        self.resize_cfg = dict(
            type=resize_type,
            scale=(1, 1),
            keep_ratio=False,
            interpolation=interpolation,
            backend=backend,
            **resize_kwargs)
        self.resize = TRANSFORMS.build(self.resize_cfg)

    def _resize_to(self, results: dict, height: int, width: int) -> dict:
        """Resize everything to ``height x width`` through ``Resize``."""
        self.resize.scale = (width, height)
        if self.seg_backend == self.backend:
            return self.resize(results)
        seg = _pop_seg_fields(results)
        results = self.resize(results)
        _resize_seg_fields(results, seg, self.seg_backend)
        return results


@TRANSFORMS.register_module()
class RandomLongSideResize(_DelegatedResize):
    """Resize the image so that its longer side is a random integer drawn
    uniformly from ``long_side_range`` (both ends included), keeping the
    aspect ratio.

    The other side is ``int(long_side * short / long + 0.5)``, as the
    reference loaders of Lai et al. (CVPR 2021) compute it (they resize the
    image with PIL bicubic and the label map with OpenCV's nearest
    neighbour: ``backend='pillow', seg_backend='cv2'``). The resize itself
    is MMSeg's ``Resize`` (``keep_ratio=False``) to the drawn size, which
    also rescales ``gt_bboxes`` and sets ``scale`` / ``scale_factor``.

    Required Keys:

    - img
    - gt_seg_map and other ``seg_fields`` (optional)
    - gt_bboxes (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map and other ``seg_fields``
    - gt_bboxes

    Added Keys:

    - scale
    - scale_factor
    - keep_ratio

    Args:
        long_side_range (tuple[int, int]): ``(min, max)`` of the longer side
            in pixels, e.g. ``(320, 800)`` = 0.8-2.0 x 400 (CAC's unlabeled
            VOC images), ``(200, 800)`` (its labeled VOC images).
        interpolation (str): Image interpolation. Defaults to 'bicubic'.
        backend (str): Image resize backend, 'cv2' or 'pillow'. Defaults to
            'cv2'.
        seg_backend (str, optional): Backend of the (nearest-neighbour)
            segmentation-map resize. Defaults to ``backend``.
        resize_type (str): The resize transform. Defaults to 'Resize'.
        **resize_kwargs: Further ``Resize`` arguments (e.g.
            ``clip_object_border``).
    """

    def __init__(self, long_side_range: Sequence[int], **kwargs) -> None:
        super().__init__(**kwargs)
        if len(long_side_range) != 2 or not all(
                isinstance(v, (int, np.integer)) for v in long_side_range):
            raise TypeError('long_side_range must be two ints (min, max), '
                            f'got {long_side_range!r}')
        low, high = (int(v) for v in long_side_range)
        if not 1 <= low <= high:
            raise ValueError('long_side_range must satisfy 1 <= min <= max, '
                             f'got {(low, high)}')
        self.long_side_range = (low, high)

    @cache_randomness
    def _random_long_side(self) -> int:
        low, high = self.long_side_range
        return int(np.random.randint(low, high + 1))

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        new_h, new_w = long_side_size(height, width, self._random_long_side())
        return self._resize_to(results, new_h, new_w)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(long_side_range='
                f'{self.long_side_range}, interpolation='
                f'{self.interpolation}, backend={self.backend}, '
                f'seg_backend={self.seg_backend})')


@TRANSFORMS.register_module()
class RandomResizedCrop(_DelegatedResize):
    """Crop a random window of a random fraction of the image area and a
    random aspect ratio, resized to ``crop_size`` (torchvision's
    ``RandomResizedCrop``, with boxes and segmentation maps).

    The window is drawn as ``torchvision.transforms.RandomResizedCrop.
    get_params``: up to 10 tries of an area ``A * U(area_range)`` and an
    aspect ratio ``w / h = exp(U(log aspect_ratio_range))``, rounded to
    integer sides; the first one that fits is placed uniformly at random; if
    none fits, the largest centred window whose aspect ratio is clamped to
    ``aspect_ratio_range``. The window is
    cut out (boxes shifted, clipped, and dropped with their labels when
    narrower or lower than ``min_box_size``) and resized to ``crop_size``
    by MMSeg's ``Resize`` (``keep_ratio=False``). 1-stage-wseg uses
    torchvision's ``scale=(0.9, 1.0)`` (``area_range`` here: MMSeg's
    ``scale`` is an image size), the default ``ratio=(3/4, 4/3)``, PIL
    bicubic for the image and PIL nearest for the mask
    (``backend='pillow'``).

    Required Keys:

    - img
    - gt_seg_map and other ``seg_fields`` (optional)
    - gt_bboxes (optional)
    - gt_bboxes_labels (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map and other ``seg_fields``
    - gt_bboxes
    - gt_bboxes_labels

    Added Keys:

    - scale
    - scale_factor
    - keep_ratio
    - resized_crop_window (``(x1, y1, x2, y2)`` of the window in the input
      image)

    Args:
        crop_size (tuple[int, int]): ``(h, w)`` of the output.
        area_range (tuple[float, float]): Range of the window area as a
            fraction of the image area (torchvision's ``scale``). Defaults
            to (0.08, 1.0) (torchvision's).
        aspect_ratio_range (tuple[float, float]): Range of the window aspect
            ratio ``w / h`` (torchvision's ``ratio``). Defaults to
            (3/4, 4/3).
        max_tries (int): Random tries before the centred fallback. Defaults
            to 10 (torchvision's).
        min_box_size (float): Boxes narrower / lower than this in the window
            are removed. Defaults to 1 pixel.
        interpolation (str): Image interpolation. Defaults to 'bicubic'.
        backend (str): Resize backend, 'cv2' or 'pillow'. Defaults to 'cv2'.
        seg_backend (str, optional): Backend of the segmentation-map resize.
            Defaults to ``backend``.
        resize_type (str): The resize transform. Defaults to 'Resize'.
        **resize_kwargs: Further ``Resize`` arguments.
    """

    def __init__(self,
                 crop_size: Sequence[int],
                 area_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.),
                 max_tries: int = 10,
                 min_box_size: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        if len(crop_size) != 2 or min(crop_size) < 1:
            raise ValueError(f'crop_size must be (h, w) > 0, got {crop_size}')
        if len(area_range) != 2 or not \
                0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError('area_range must satisfy 0 < min <= max <= 1, '
                             f'got {area_range}')
        if len(aspect_ratio_range) != 2 or not \
                0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError('aspect_ratio_range must satisfy 0 < min <= max, '
                             f'got {aspect_ratio_range}')
        if max_tries < 1:
            raise ValueError(f'max_tries must be >= 1, got {max_tries}')
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.area_range = (float(area_range[0]), float(area_range[1]))
        self.aspect_ratio_range = (float(aspect_ratio_range[0]),
                                   float(aspect_ratio_range[1]))
        self.max_tries = max_tries
        self.min_box_size = min_box_size

    @cache_randomness
    def get_window(self, height: int, width: int) -> Tuple[int, int, int,
                                                           int]:
        """``(x1, y1, x2, y2)`` of the window in a ``height x width``
        image (``x2`` / ``y2`` exclusive)."""
        area = height * width
        ratio = self.aspect_ratio_range
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(self.max_tries):
            target_area = area * np.random.uniform(*self.area_range)
            aspect = math.exp(np.random.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                y1 = int(np.random.randint(0, height - h + 1))
                x1 = int(np.random.randint(0, width - w + 1))
                return x1, y1, x1 + w, y1 + h
        in_ratio = float(width) / float(height)
        if in_ratio < ratio[0]:
            w = width
            h = int(round(w / ratio[0]))
        elif in_ratio > ratio[1]:
            h = height
            w = int(round(h * ratio[1]))
        else:
            w, h = width, height
        y1 = (height - h) // 2
        x1 = (width - w) // 2
        return x1, y1, x1 + w, y1 + h

    def _crop(self, results: dict, window: Tuple[int, int, int,
                                                 int]) -> None:
        x1, y1, x2, y2 = window
        results['img'] = results['img'][y1:y2, x1:x2, ...]
        results['img_shape'] = results['img'].shape[:2]
        keys = set(results.get('seg_fields', [])) | {'gt_seg_map'}
        for key in keys:
            if results.get(key, None) is not None:
                results[key] = results[key][y1:y2, x1:x2, ...]
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'] = np.asarray(
                results['gt_bboxes'], dtype=np.float32)
        crop_boxes(results, window, self.min_box_size)
        results['resized_crop_window'] = (x1, y1, x2, y2)

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        self._crop(results, self.get_window(height, width))
        return self._resize_to(results, *self.crop_size)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'area_range={self.area_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'interpolation={self.interpolation}, '
                f'backend={self.backend}, seg_backend={self.seg_backend})')


@TRANSFORMS.register_module()
class PaddedRandomCrop(BaseTransform):
    """A random ``crop_size`` crop, padded at the bottom / right to
    ``crop_size`` where the image is smaller.

    The labeled crop of Lai et al.'s loaders (``base/base_dataset.py``
    ``_crop``) pads the image at the bottom / right to at least the crop size
    (image: the ImageNet mean in 0-255, label: 255) and then crops a random
    window; cropping first and padding the crop at the bottom / right gives
    the same pixels, which is what this transform does: MMSeg's
    ``RandomCrop`` (offsets uniform over the valid range, optional
    ``cat_max_ratio``), then mmcv's ``Pad`` to the crop size. Every output
    has exactly ``crop_size``.

    Required Keys:

    - img
    - gt_seg_map (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map

    Added Keys:

    - pad_shape
    - pad_fixed_size
    - pad_size_divisor

    Args:
        crop_size (tuple[int, int]): ``(h, w)`` of the crop.
        pad_val (int | tuple): Image padding value (BGR for a colour).
            Defaults to 0.
        seg_pad_val (int): Label padding value. Defaults to 255.
        cat_max_ratio (float): See MMSeg's ``RandomCrop``. Defaults to 1.
        ignore_index (int): See MMSeg's ``RandomCrop``. Defaults to 255.
    """

    def __init__(self,
                 crop_size: Sequence[int],
                 pad_val=0,
                 seg_pad_val: int = 255,
                 cat_max_ratio: float = 1.0,
                 ignore_index: int = 255) -> None:
        super().__init__()
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        if len(crop_size) != 2 or min(crop_size) < 1:
            raise ValueError(f'crop_size must be (h, w) > 0, got {crop_size}')
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        if isinstance(pad_val, (list, tuple)):
            pad_val = tuple(pad_val)
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val
        self.crop = TRANSFORMS.build(
            dict(
                type='RandomCrop',
                crop_size=self.crop_size,
                cat_max_ratio=cat_max_ratio,
                ignore_index=ignore_index))
        self.pad = TRANSFORMS.build(
            dict(
                type='Pad',
                size=(self.crop_size[1], self.crop_size[0]),  # (w, h)
                pad_val=dict(img=pad_val, seg=seg_pad_val)))

    def transform(self, results: dict) -> dict:
        return self.pad(self.crop(results))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'pad_val={self.pad_val}, seg_pad_val={self.seg_pad_val})')
