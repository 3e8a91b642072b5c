"""Loading of offline class activation maps (CAMs) for pseudo-mask making.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021 (https://arxiv.org/abs/2108.12995). The file layout
(``<cam_dir>/<img_id>.npz`` with ``keys`` = dataset class indices of the
image's labelled classes and ``cam`` = ``(K, H, W)`` maps at image size) is
described in :mod:`mmseg_weak.utils.cam_io`; ``tools/generate_cams.py``
writes it.
"""
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.cam_io import CAM_FILE_SUFFIX, CAMFileError, load_cams
from ...utils.soft_maps import set_soft_map

__all__ = ['LoadCAMs']


@TRANSFORMS.register_module()
class LoadCAMs(BaseTransform):
    """Load the CAMs of an image's labelled classes and check them.

    Errors (:class:`~mmseg_weak.utils.cam_io.CAMFileError`, naming the
    file): the file is missing or unreadable; the maps are not ``(K, H, W)``
    or not the size of the image; a key is not a foreground class index (or
    ``>= num_classes``); a value is NaN / inf; when ``gt_img_labels`` is
    loaded (e.g. by ``LoadImageLabels`` from the VOC XML), the keys differ
    from the image's labelled foreground classes. It must run before any
    geometric transform (the CAMs are at the original image size and are not
    moved by them).

    Required Keys:

    - img_id (or img_path, whose file stem is then the id)
    - img / ori_shape (optional; the size check)
    - gt_img_labels (optional; ``(num_classes,)`` multi-hot, background 0)

    Added Keys:

    - cams (np.float32, ``(K, H, W)``)
    - cams_classes (np.int64, ``(K,)``, dataset class ids of the maps,
      increasing: the pseudo-label contract of
      :mod:`mmseg_weak.utils.soft_maps`)
    - cam_path (str)

    Args:
        cam_dir (str): Folder of the CAM files.
        suffix (str): File suffix. Defaults to ``'.npz'``; ``'.npy'`` reads
            SEAM / PMM pickled dicts (needs ``allow_pickle=True``).
        num_classes (int, optional): Classes of the dataset (background
            included), to check the keys.
        check_labels (bool): Compare the keys with ``gt_img_labels`` when
            present. Defaults to True.
        allow_pickle (bool): Allow pickled ``.npy`` dicts. Defaults to False.
    """

    def __init__(self,
                 cam_dir: str,
                 suffix: str = CAM_FILE_SUFFIX,
                 num_classes: Optional[int] = None,
                 check_labels: bool = True,
                 allow_pickle: bool = False) -> None:
        self.cam_dir = cam_dir
        self.suffix = suffix
        self.num_classes = num_classes
        self.check_labels = check_labels
        self.allow_pickle = allow_pickle

    def transform(self, results: dict) -> dict:
        img_id = results.get('img_id')
        if img_id is None:
            if 'img_path' not in results:
                raise KeyError('LoadCAMs needs img_id or img_path')
            img_id = osp.splitext(osp.basename(results['img_path']))[0]
        path = osp.join(self.cam_dir, img_id + self.suffix)
        if any(k in results for k in ('scale_factor', 'flip', '_crop_bbox')):
            raise CAMFileError(
                f'{path}: LoadCAMs must come before the geometric transforms '
                '(the CAMs are at the original image size)')
        if 'ori_shape' in results:
            shape = tuple(results['ori_shape'][:2])
        elif 'img' in results:
            shape = tuple(results['img'].shape[:2])
        else:
            shape = None
        labels = None
        if self.check_labels and results.get('gt_img_labels') is not None:
            vec = np.asarray(results['gt_img_labels']).reshape(-1)
            labels = [int(c) for c in np.flatnonzero(vec > 0) if c != 0]
        cams, keys = load_cams(
            path,
            allow_pickle=self.allow_pickle,
            image_shape=shape,
            num_classes=self.num_classes,
            img_labels=labels)
        set_soft_map(results, 'cams', cams, keys)
        results['cam_path'] = path
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cam_dir={self.cam_dir!r}, '
                f'suffix={self.suffix!r}, num_classes={self.num_classes}, '
                f'check_labels={self.check_labels}, '
                f'allow_pickle={self.allow_pickle})')
