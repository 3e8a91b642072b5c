"""The pseudo-label contract shared by every pseudo-label transform.

Weak labels travel through a data pipeline in two forms:

- a **soft map** ``results[key]``: a ``(C, H, W)`` float array of per-class
  scores (CAMs, background + CAM scores, box masks, predicted probabilities,
  PAMR / CRF output). Channel ``i`` belongs to the *dataset* class id
  ``results[key + '_classes'][i]`` (a ``(C,)`` int64 array, increasing, no
  duplicates; ``0`` is the background of VOC-style datasets). A map of the
  labelled classes of an image therefore has as many channels as the image
  has classes, and its channel index is never mistaken for a class id;
- a **hard map** ``results['gt_seg_map']`` (or another key listed in
  ``seg_fields``): an ``(H, W)`` uint8 map of dataset class ids, with
  ``ignore_index`` (255) where no label is given.

Every transform that reads a soft map checks that its class ids are there
and match its channels, and every transform that writes one writes them, so
that any order of steps that makes sense works (e.g. ``LoadCAMs ->
NormalizeCAMs -> AddCAMBackground -> PAMRRefineMasks -> DenseCRFRefine``) and
one that does not raises a :class:`PseudoLabelError` naming the transform and
the image.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'CLASSES_SUFFIX', 'PseudoLabelError', 'classes_key', 'describe',
    'get_soft_map', 'set_soft_map', 'set_seg_map', 'labels_from_soft_map',
    'hard_map_to_soft', 'image_label_ids', 'rgb_image'
]

#: Suffix of the key holding a soft map's channel class ids.
CLASSES_SUFFIX = '_classes'


class PseudoLabelError(ValueError):
    """A pseudo-label step got input that breaks the contract (missing map,
    missing class ids, wrong order of steps, mismatching sizes)."""


def classes_key(key: str) -> str:
    """Key of the channel class ids of the soft map ``key``."""
    return key + CLASSES_SUFFIX


def describe(results: dict, transform: str) -> str:
    """``'<img_path>: <transform>'``, the prefix of every error message."""
    where = results.get('img_path', results.get('img_id', '<unknown image>'))
    return f'{where}: {transform}'


def get_soft_map(results: dict,
                 key: str,
                 transform: str,
                 background: Optional[bool] = None,
                 background_index: int = 0,
                 hint: str = '') -> Tuple[np.ndarray, np.ndarray]:
    """Read and check a soft map and its channel class ids.

    Args:
        results (dict): The pipeline's results.
        key (str): Key of the soft map.
        transform (str): Name of the calling transform (for errors).
        background (bool, optional): ``True``: the map must have a
            ``background_index`` channel; ``False``: it must not (e.g. CAMs
            of foreground classes); ``None``: either.
        background_index (int): The background class id. Defaults to 0.
        hint (str): What produces ``key`` (appended to the missing-key
            error).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(C, H, W)`` float32 map and ``(C,)``
        int64 class ids.

    Raises:
        PseudoLabelError: On any breach of the contract.
    """
    where = describe(results, transform)
    if key not in results:
        raise PseudoLabelError(f'{where} needs the soft map {key!r}'
                               + (f' ({hint})' if hint else ''))
    ckey = classes_key(key)
    if ckey not in results:
        raise PseudoLabelError(
            f'{where}: the soft map {key!r} has no {ckey!r} (the dataset '
            'class id of each channel); every pseudo-label transform writes '
            'it next to its map')
    soft = np.asarray(results[key])
    classes = np.asarray(results[ckey]).reshape(-1)
    if soft.ndim != 3:
        raise PseudoLabelError(f'{where}: {key!r} must be (C, H, W), got '
                               f'shape {soft.shape}')
    if not np.issubdtype(classes.dtype, np.integer) and classes.size:
        raise PseudoLabelError(f'{where}: {ckey!r} must hold integer class '
                               f'ids, got {classes.dtype}')
    if len(classes) != soft.shape[0]:
        raise PseudoLabelError(
            f'{where}: {key!r} has {soft.shape[0]} channels but {ckey!r} '
            f'names {len(classes)} classes {classes.tolist()}')
    if len(np.unique(classes)) != len(classes):
        raise PseudoLabelError(
            f'{where}: duplicate class ids {classes.tolist()} in {ckey!r}')
    has_bg = bool((classes == background_index).any())
    if background is True and not has_bg:
        raise PseudoLabelError(
            f'{where}: {key!r} (classes {classes.tolist()}) has no '
            f'background channel (class {background_index}); add one first '
            '(e.g. AddCAMBackground after the CAM steps)')
    if background is False and has_bg:
        raise PseudoLabelError(
            f'{where}: {key!r} (classes {classes.tolist()}) already has a '
            f'background channel (class {background_index}); this step '
            'takes foreground maps (e.g. the CAMs) and must come before '
            'AddCAMBackground')
    return soft.astype(np.float32, copy=False), classes.astype(np.int64)


def set_soft_map(results: dict, key: str, soft: np.ndarray,
                 classes: Sequence[int]) -> None:
    """Write a soft map and its class ids (the contract's only writer)."""
    soft = np.asarray(soft, dtype=np.float32)
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    if soft.ndim != 3 or soft.shape[0] != len(classes):
        raise ValueError(f'soft map {soft.shape} and classes '
                         f'{classes.tolist()} do not match')
    results[key] = soft
    results[classes_key(key)] = classes


def set_seg_map(results: dict, key: str, label: np.ndarray) -> None:
    """Write a hard label map and list it in ``seg_fields`` (so MMSeg's
    geometric transforms move it with the image)."""
    results[key] = label
    fields = results.setdefault('seg_fields', [])
    if key not in fields:
        fields.append(key)


def labels_from_soft_map(soft: np.ndarray,
                         classes: Sequence[int]) -> np.ndarray:
    """``classes[argmax(soft)]`` as a uint8 label map.

    Ties go to the first channel (the classes are increasing, so the
    background 0, then the lower class id).

    Args:
        soft (np.ndarray): ``(C, H, W)`` scores.
        classes (Sequence[int]): ``(C,)`` class ids of the channels.

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map of class ids.
    """
    lut = np.asarray(classes, dtype=np.int64).reshape(-1)
    if len(lut) != soft.shape[0]:
        raise ValueError(f'{len(lut)} class ids for {soft.shape[0]} '
                         'channels')
    if len(lut) == 0:
        raise ValueError('a soft map without channels has no labels')
    if lut.max() > 255 or lut.min() < 0:
        raise ValueError(f'class ids {lut.tolist()} do not fit in uint8')
    return lut[np.argmax(soft, axis=0)].astype(np.uint8)


def hard_map_to_soft(label: np.ndarray,
                     classes: Sequence[int],
                     confidence: float) -> np.ndarray:
    """A hard label map as probabilities over ``classes``.

    A labelled pixel gets ``confidence`` on its class and the rest shared by
    the other classes (pydensecrf's ``unary_from_labels`` with ``gt_prob``);
    a pixel of no class in ``classes`` (e.g. the ignore index 255) is
    uniform.

    Args:
        label (np.ndarray): ``(H, W)`` class ids.
        classes (Sequence[int]): The ``C`` channels' class ids.
        confidence (float): Probability of the labelled class, in
            ``(1/C, 1)``.

    Returns:
        np.ndarray: ``(C, H, W)`` float32 probabilities.
    """
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    num = len(classes)
    if num < 2:
        raise ValueError(f'a hard map needs >= 2 classes, got '
                         f'{classes.tolist()}')
    if not 1.0 / num < confidence < 1.0:
        raise ValueError(f'confidence must be in (1/{num}, 1), got '
                         f'{confidence}')
    label = np.asarray(label)
    onehot = (label[None] == classes[:, None, None])
    soft = np.where(onehot, confidence, (1 - confidence) / (num - 1))
    unlabelled = ~onehot.any(axis=0)
    soft[:, unlabelled] = 1.0 / num
    return soft.astype(np.float32)


def image_label_ids(results: dict) -> Optional[np.ndarray]:
    """Class ids the image is labelled with (from ``gt_img_labels``, a
    multi-hot vector over the dataset's classes), or None."""
    labels = results.get('gt_img_labels')
    if labels is None:
        return None
    return np.flatnonzero(np.asarray(labels).reshape(-1) > 0).astype(np.int64)


def rgb_image(results: dict,
              to_rgb: bool,
              transform: str,
              size: Optional[Sequence[int]] = None,
              size_of: str = 'map') -> np.ndarray:
    """The pipeline's image as a contiguous ``(H, W, 3)`` uint8 array.

    Args:
        results (dict): The sample.
        to_rgb (bool): Flip the BGR image of ``LoadImageFromFile`` to RGB.
        transform (str): The transform's name, for messages.
        size (Sequence[int], optional): ``(H, W)`` of the map the image goes
            with; a :class:`PseudoLabelError` is raised when the image's
            size differs.
        size_of (str): What has ``size``, for the message (``'CAM'``: "...
            differs from the CAM size"). Defaults to ``'map'``.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 image.
    """
    if 'img' not in results:
        raise PseudoLabelError(f'{describe(results, transform)} needs the '
                               'image (add LoadImageFromFile first)')
    img = np.asarray(results['img'])
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise PseudoLabelError(f'{describe(results, transform)}: the image '
                               f'must be (H, W, 3), got {img.shape}')
    if size is not None and tuple(img.shape[:2]) != tuple(size):
        raise PseudoLabelError(
            f'{describe(results, transform)}: image size {img.shape[1]}x'
            f'{img.shape[0]} differs from the {size_of} size {size[1]}x'
            f'{size[0]}; run this step at the image size (before resizing '
            'one of them)')
    if to_rgb:
        img = img[..., ::-1]
    if img.dtype != np.uint8:
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)
