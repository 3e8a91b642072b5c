"""Pseudo ground truth from refined (PAMR) soft masks.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020, Sec. 3.3 (https://arxiv.org/abs/2005.08104).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

__all__ = ['pseudo_gt_from_masks']


@torch.no_grad()
def pseudo_gt_from_masks(masks: Tensor,
                         img_labels: Optional[Tensor] = None,
                         fg_cutoff: float = 0.6,
                         bg_cutoff: float = 0.7,
                         min_cutoff: float = 0.2,
                         ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Hard pseudo labels from soft masks, and which images keep them.

    Rules (those of the authors' implementation):

    1. classes absent from ``img_labels`` get a zero mask (background,
       channel 0, is always kept);
    2. a pixel is confident for class ``c`` when its score is *above*
       ``cutoff_c * max(mask_c)`` (``bg_cutoff`` for the background,
       ``fg_cutoff`` otherwise), the threshold being at least ``min_cutoff``
       (so a class whose mask never exceeds ``min_cutoff`` gets no pixel);
    3. pixels confident for no class (low confidence) or for more than one
       class (ambiguous) are ``ignore_index``;
    4. an image is *valid* only if every labelled class and the background
       keep at least one pixel; otherwise the loss discards it.

    Args:
        masks (Tensor): ``(B, C, H, W)`` soft masks, background first.
        img_labels (Tensor, optional): ``(B, C)`` multi-hot image labels
            (the background entry is not used). ``None`` keeps all classes
            and marks every image valid.
        fg_cutoff (float): Fraction of a class's maximum. Defaults to 0.6.
        bg_cutoff (float): Fraction for the background. Defaults to 0.7.
        min_cutoff (float): Lowest threshold. Defaults to 0.2.
        ignore_index (int): Label of ignored pixels. Defaults to 255.

    Returns:
        tuple[Tensor, Tensor]: ``(B, H, W)`` long label map and ``(B,)`` bool
        validity of each image.
    """
    if masks.dim() != 4:
        raise ValueError(
            f'masks must be (B, C, H, W), got {tuple(masks.shape)}')
    batch, num_classes = masks.shape[:2]
    masks = masks.detach().float()
    if img_labels is not None:
        if img_labels.shape != (batch, num_classes):
            raise ValueError(f'img_labels {tuple(img_labels.shape)} must be '
                             f'(B, C) = {(batch, num_classes)}')
        keep = (img_labels > 0).to(masks.dtype).clone()
        keep[:, 0] = 1
        masks = masks * keep[:, :, None, None]
    cutoff = masks.new_full((1, num_classes, 1, 1), fg_cutoff)
    cutoff[:, 0] = bg_cutoff
    threshold = masks.amax(dim=(2, 3), keepdim=True) * cutoff
    threshold = threshold.clamp(min=min_cutoff)
    confident = masks > threshold
    num_confident = confident.sum(1)
    label = confident.to(torch.uint8).argmax(1)
    label[num_confident != 1] = ignore_index

    present = confident & (num_confident == 1).unsqueeze(1)
    num_present = present.flatten(2).any(-1).sum(-1)
    if img_labels is None:
        valid = torch.ones(batch, dtype=torch.bool, device=masks.device)
    else:
        expected = (img_labels[:, 1:] > 0).sum(-1) + 1
        valid = num_present == expected
    return label.long(), valid
