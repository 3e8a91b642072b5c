"""Offline class activation maps (CAMs): the file layout, writing and
checked reading.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021 (https://arxiv.org/abs/2108.12995); written by
``tools/generate_cams.py``, read by the ``LoadCAMs`` transform.

CAM file layout
---------------
One file per image, ``<cam_dir>/<img_id>.npz`` (``numpy.savez``, no pickle),
holding the CAMs of the classes the image is labelled with only:

- ``keys``: ``(K,)`` int64, the *dataset* class indices of those classes
  (VOC: 1-20; 0 is the background and never has a CAM), strictly increasing;
- ``cam``: ``(K, H, W)`` float (16, 32 or 64 bit; read as float32) at the
  image's resolution, non-negative scores of any scale (raw summed
  activations or already normalised maps: Eq. 1 is applied again anyway).

An image with no labelled class has ``K = 0`` (its pseudo-mask is all
background). This is the layout of SEAM / PMM (a dict of the labelled classes'
maps at image size: the PPMG loop runs over the labelled classes, and a
dense ``(C, H, W)`` array would store 21 maps for the 1-3 classes of a VOC
image and could not tell "not labelled" from "zero activation") without
pickle and with the indices used by the label maps and ``gt_img_labels``,
so there is no off-by-one between files and masks. SEAM / PMM's own ``.npy``
dicts (``{0-based foreground index: (H, W) map}``) are read too by
:func:`load_cams` with ``allow_pickle=True`` (their keys are shifted by one).
"""
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'CAMFileError', 'CAM_FILE_SUFFIX', 'cam_file_path', 'save_cams',
    'load_cams', 'check_cams'
]


CAM_FILE_SUFFIX = '.npz'


class CAMFileError(ValueError):
    """A CAM file is missing, malformed or inconsistent with its image."""


def cam_file_path(cam_dir: str,
                  img_id: str,
                  suffix: str = CAM_FILE_SUFFIX) -> str:
    """Path of the CAM file of ``img_id``: ``<cam_dir>/<img_id><suffix>``."""
    return osp.join(cam_dir, img_id + suffix)


def save_cams(path: str, cams: np.ndarray, keys: Sequence[int]) -> None:
    """Write one CAM file (layout of the module docstring) atomically.

    The arrays go to a temporary file in the same folder, which is then
    renamed, so an interrupted run never leaves a truncated file.

    Args:
        path (str): Output ``.npz`` path (the folder is created).
        cams (np.ndarray): ``(K, H, W)`` maps of the labelled classes.
        keys (Sequence[int]): ``(K,)`` dataset class indices (``>= 1``).
    """
    cams = np.asarray(cams, dtype=np.float32)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    check_cams(cams, keys, path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp.npz')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, keys=keys, cam=cams)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def check_cams(cams: np.ndarray,
               keys: np.ndarray,
               path: str,
               image_shape: Optional[Tuple[int, int]] = None,
               num_classes: Optional[int] = None,
               img_labels: Optional[Sequence[int]] = None) -> None:
    """Validate CAMs and their class indices; raise naming ``path``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` maps.
        keys (np.ndarray): ``(K,)`` class indices.
        path (str): The file, for the error message.
        image_shape (tuple[int, int], optional): ``(H, W)`` of the image.
        num_classes (int, optional): Classes of the dataset (background
            included); keys must be in ``[1, num_classes)``.
        img_labels (Sequence[int], optional): Foreground classes the image is
            labelled with; the keys must be exactly these.

    Raises:
        CAMFileError: On any inconsistency.
    """
    if cams.ndim != 3:
        raise CAMFileError(f'{path}: cam must be (K, H, W), got shape '
                           f'{tuple(cams.shape)}')
    if keys.ndim != 1 or len(keys) != cams.shape[0]:
        raise CAMFileError(f'{path}: {len(keys)} keys for {cams.shape[0]} '
                           'CAM channels')
    if len(np.unique(keys)) != len(keys):
        raise CAMFileError(f'{path}: duplicate class keys {keys.tolist()}')
    if (keys < 1).any():
        raise CAMFileError(
            f'{path}: class keys {keys[keys < 1].tolist()} < 1 (keys are '
            'dataset class indices; 0 is the background, which has no CAM)')
    if num_classes is not None and (keys >= num_classes).any():
        raise CAMFileError(
            f'{path}: class keys {keys[keys >= num_classes].tolist()} '
            f'outside [1, {num_classes})')
    if not np.isfinite(cams).all():
        raise CAMFileError(f'{path}: CAMs contain NaN or inf')
    if image_shape is not None and tuple(cams.shape[1:]) != tuple(
            image_shape[:2]):
        raise CAMFileError(
            f'{path}: CAM size {cams.shape[2]}x{cams.shape[1]} differs from '
            f'the image size {image_shape[1]}x{image_shape[0]}')
    if img_labels is not None:
        labels = sorted({int(c) for c in img_labels})
        extra = sorted(set(keys.tolist()) - set(labels))
        missing = sorted(set(labels) - set(keys.tolist()))
        if extra:
            raise CAMFileError(f'{path}: CAMs of classes {extra} that the '
                               f'image is not labelled with ({labels})')
        if missing:
            raise CAMFileError(f'{path}: no CAM for the labelled classes '
                               f'{missing}')


def load_cams(path: str,
              allow_pickle: bool = False,
              **check_kwargs) -> Tuple[np.ndarray, np.ndarray]:
    """Read and validate one CAM file.

    Args:
        path (str): A ``.npz`` file (layout of the module docstring) or, with
            ``allow_pickle=True``, a SEAM / PMM ``.npy`` dict whose keys are
            0-based foreground indices (shifted by one here).
        allow_pickle (bool): Allow the pickled ``.npy`` dicts (only for
            trusted files). Defaults to False.
        **check_kwargs: :func:`check_cams` arguments (``image_shape``,
            ``num_classes``, ``img_labels``).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(K, H, W)`` float32 CAMs and
        ``(K,)`` int64 class indices, sorted by class index.

    Raises:
        CAMFileError: Missing, unreadable or inconsistent file.
    """
    if not osp.isfile(path):
        raise CAMFileError(f'{path}: CAM file not found')
    try:
        if path.endswith('.npy'):
            if not allow_pickle:
                raise CAMFileError(
                    f'{path}: SEAM/PMM .npy CAM dicts are pickled; pass '
                    'allow_pickle=True (trusted files only) or convert them '
                    f'to {CAM_FILE_SUFFIX}')
            data = np.load(path, allow_pickle=True).item()
            if not isinstance(data, dict):
                raise CAMFileError(f'{path}: not a dict of CAMs')
            keys = np.array([int(k) + 1 for k in data], dtype=np.int64)
            cams = np.stack([np.asarray(v) for v in data.values()]) \
                if data else np.zeros((0, 0, 0), np.float32)
        else:
            with np.load(path, allow_pickle=False) as data:
                missing = {'keys', 'cam'} - set(data.files)
                if missing:
                    raise CAMFileError(f'{path}: no array(s) '
                                       f'{sorted(missing)} in the CAM file')
                keys, cams = data['keys'], data['cam']
    except CAMFileError:
        raise
    except Exception as e:  # zip / header / pickle errors
        raise CAMFileError(f'{path}: unreadable CAM file ({e})') from None
    if not (np.issubdtype(cams.dtype, np.floating)
            and np.issubdtype(keys.dtype, np.integer)):
        raise CAMFileError(f'{path}: cam must be float and keys integer, got '
                           f'{cams.dtype} and {keys.dtype}')
    keys = keys.astype(np.int64).reshape(-1)
    cams = cams.astype(np.float32)
    if cams.size == 0 and len(keys) == 0 and 'image_shape' in check_kwargs \
            and check_kwargs['image_shape'] is not None:
        cams = np.zeros((0, *check_kwargs['image_shape'][:2]), np.float32)
    check_cams(cams, keys, path, **check_kwargs)
    order = np.argsort(keys, kind='stable')
    return np.ascontiguousarray(cams[order]), keys[order]
