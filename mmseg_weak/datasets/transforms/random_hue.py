"""Random hue shift, the hue part of torchvision's ``ColorJitter``.

Used in the per-view colour jitter of `Lai et al., CVPR 2021
<https://arxiv.org/abs/2106.14133>`_ (Sec. 4.1; the authors use
``ColorJitter(0.4, 0.4, 0.4, 0.1)``). Brightness, contrast and saturation
come from mmdet's ``Brightness`` / ``Contrast`` / ``Color``; OpenMMLab has no
hue-only transform, and ``mmcv.adjust_hue`` fails for negative shifts under
NumPy 2 (``np.uint8(negative)`` overflows), hence this one.
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


def shift_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue of a uint8 BGR image by ``shift`` turns.

    The hue channel of OpenCV's full-range HSV (256 steps per turn) is
    shifted by ``round(shift * 256)`` modulo 256, as torchvision's
    ``adjust_hue`` does on PIL's HSV (a shift of 0 steps returns the image
    unchanged; otherwise the uint8 HSV round trip may move a channel by a
    few levels, as in torchvision).

    Args:
        img (np.ndarray): ``(H, W, 3)`` uint8 BGR image.
        shift (float): Hue shift in turns, in ``[-0.5, 0.5]``.

    Returns:
        np.ndarray: The shifted image, uint8 BGR.
    """
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise TypeError(f'shift_hue needs an (H, W, 3) uint8 BGR image, got '
                        f'{img.dtype} of shape {img.shape}')
    steps = int(round(shift * 256))
    if steps % 256 == 0:
        return img
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int64) + steps) % 256).astype(
        np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


@TRANSFORMS.register_module()
class RandomHue(BaseTransform):
    """Shift the hue by a uniform random amount in ``[-max_shift,
    max_shift]`` turns, with probability ``prob``.

    Required Keys:

    - img (uint8 BGR)

    Modified Keys:

    - img

    Args:
        max_shift (float): Largest shift in turns, in ``[0, 0.5]``
            (torchvision's ``hue``). Defaults to 0.1.
        prob (float): Probability of the shift. Defaults to 1.0 (wrap it in
            ``RandomApply`` / ``RandomOrder`` with the other jitters).
    """

    def __init__(self, max_shift: float = 0.1, prob: float = 1.0) -> None:
        super().__init__()
        if not 0 <= max_shift <= 0.5:
            raise ValueError(f'max_shift must be in [0, 0.5], got {max_shift}')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.max_shift = max_shift
        self.prob = prob

    @cache_randomness
    def _draw(self):
        apply = np.random.rand() < self.prob
        return apply, np.random.uniform(-self.max_shift, self.max_shift)

    def transform(self, results: dict) -> dict:
        apply, shift = self._draw()
        if apply:
            results['img'] = shift_hue(results['img'], shift)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_shift={self.max_shift}, '
                f'prob={self.prob})')
