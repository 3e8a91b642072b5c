"""Random Gaussian blur of the image (2-D, per view).

A low-level augmentation of the unlabeled views of `Lai et al., CVPR 2021
<https://arxiv.org/abs/2106.14133>`_ (Sec. 4.1): the authors blur with a
5x5 kernel and OpenCV's default for sigma 0 with probability 0.5.
MMSeg only has a 3-D ``BioMedicalGaussianBlur`` and mmcv / mmdet have no
blur transform.
"""
from typing import Sequence, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur the image with a Gaussian kernel with probability ``prob``.

    Only the image changes (labels stay sharp). Borders are reflected
    (OpenCV's default ``BORDER_REFLECT_101``).

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        prob (float): Probability of blurring. Defaults to 0.5.
        kernel_size (int): Odd kernel size. Defaults to 5.
        sigma (float | Sequence[float]): Standard deviation in pixels, or a
            ``(min, max)`` range drawn uniformly per image. ``0`` (the
            authors' setting) lets OpenCV choose: its fixed binomial kernel
            for ``k <= 7`` (``[1, 4, 6, 4, 1] / 16`` for ``k = 5``), else a
            Gaussian of sigma ``0.3 * ((k - 1) / 2 - 1) + 0.8``.
            Defaults to 0.
    """

    def __init__(self,
                 prob: float = 0.5,
                 kernel_size: int = 5,
                 sigma: Union[float, Sequence[float]] = 0.) -> None:
        super().__init__()
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if not isinstance(kernel_size, int) or kernel_size < 1 or \
                kernel_size % 2 == 0:
            raise ValueError(
                f'kernel_size must be a positive odd int, got {kernel_size!r}')
        sigma_range = (tuple(float(s) for s in sigma) if isinstance(
            sigma, Sequence) else (float(sigma), float(sigma)))
        if len(sigma_range) != 2 or not 0 <= sigma_range[0] <= sigma_range[1]:
            raise ValueError(f'sigma must be >= 0 or a (min, max) range with '
                             f'0 <= min <= max, got {sigma!r}')
        self.prob = prob
        self.kernel_size = kernel_size
        self.sigma_range = sigma_range

    @cache_randomness
    def _draw(self):
        apply = np.random.rand() < self.prob
        return apply, np.random.uniform(*self.sigma_range)

    def transform(self, results: dict) -> dict:
        apply, sigma = self._draw()
        if apply:
            k = self.kernel_size
            results['img'] = cv2.GaussianBlur(
                results['img'], (k, k), sigmaX=sigma, sigmaY=sigma)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'kernel_size={self.kernel_size}, '
                f'sigma={self.sigma_range})')
