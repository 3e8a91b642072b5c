"""Convolutional self-correction (`Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_, Sec. 3.4, Eq. 6, Fig. 3)."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ...utils.supervision import BOX, FULL, indices_with_supervision
from ..utils.zero_loss import zero_loss
from .self_correction_head import SelfCorrectionHead


@MODELS.register_module()
class ConvSelfCorrectionHead(SelfCorrectionHead):
    """A small CNN learns the correction: ``q_conv = softmax(f([l, l_anc]))``
    with ``f`` = 3×3 conv (``channels`` wide) → ReLU → 3×3 conv (C+1
    outputs) on the concatenated primary and ancillary logits.

    Losses (Eq. 6): the primary head's loss on ``'full'`` samples; soft
    cross-entropy to ``q_conv`` on ``'box'`` samples (no gradient through
    ``q_conv``); and ``loss_correction``, the cross-entropy of ``q_conv`` with
    the ground truth of ``'full'`` samples, which trains ``f``. The primary
    logits enter ``f`` detached (``detach_primary=True``), so the last term
    trains the correction network only, as the paper describes it.

    Needs ancillary logits (hence boxes) on fully labeled images too.

    Args:
        primary (dict): Config of the primary decode head.
        correction_channels (int): Width of the hidden layer. Defaults to 128.
        loss_correction (dict): Loss of the last term of Eq. 6, logged under
            its ``loss_name``. Defaults to MMSeg's ``CrossEntropyLoss`` named
            ``loss_correction``.
        detach_primary (bool): Detach ``l`` at the input of ``f``.
        loss_weak_weight (float): Weight of the box-only term.
        **kwargs: Other :class:`SelfCorrectionHead` arguments (``loss_weak``,
            the box-only loss config; ``init_cfg``).
    """

    ancillary_supervisions = (FULL, BOX)

    def __init__(self,
                 primary: dict,
                 correction_channels: int = 128,
                 loss_correction: Optional[dict] = None,
                 detach_primary: bool = True,
                 loss_weak_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(primary, loss_weak_weight=loss_weak_weight, **kwargs)
        c = self.num_classes
        self.correction = nn.Sequential(
            nn.Conv2d(2 * c, correction_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(correction_channels, c, 3, padding=1))
        if loss_correction is None:
            loss_correction = dict(type='CrossEntropyLoss',
                                   loss_name='loss_correction')
        self.loss_correction = MODELS.build(loss_correction)
        self.detach_primary = detach_primary

    def correction_logits(self, seg_logits: Tensor,
                          ancillary_logits: Tensor) -> Tensor:
        """Logits of ``q_conv`` from primary and ancillary logits."""
        if self.detach_primary:
            seg_logits = seg_logits.detach()
        return self.correction(
            torch.cat([seg_logits, ancillary_logits.to(seg_logits.dtype)], 1))

    def weak_target(self, seg_logits: Tensor,
                    ancillary_logits: Tensor) -> Tensor:
        return F.softmax(
            self.correction_logits(seg_logits, ancillary_logits), dim=1)

    def loss_by_feat(self,
                     seg_logits: Tensor,
                     batch_data_samples: SampleList,
                     ancillary_logits: Optional[Tensor] = None
                     ) -> Dict[str, Tensor]:
        if ancillary_logits is None:
            raise ValueError('ConvSelfCorrectionHead needs ancillary logits')
        losses = super().loss_by_feat(seg_logits, batch_data_samples,
                                      ancillary_logits)
        full = indices_with_supervision(batch_data_samples, FULL)
        anc = resize(ancillary_logits[full].to(seg_logits.dtype),
                     size=seg_logits.shape[2:], mode='bilinear',
                     align_corners=self.align_corners)
        # on an empty selection this is a zero loss that still keeps f in
        # the graph (DDP needs every parameter used)
        corr = self.correction_logits(seg_logits[full], anc)
        name = self.loss_correction.loss_name
        if full:
            corr = resize(corr, size=self._label_size(batch_data_samples),
                          mode='bilinear', align_corners=self.align_corners)
            labels = torch.stack([
                batch_data_samples[i].gt_sem_seg.data for i in full
            ]).squeeze(1)
            value = self.loss_correction(
                corr, labels, ignore_index=self.ignore_index)
        else:
            value = zero_loss(corr)
        losses[name] = losses[name] + value if name in losses else value
        return losses
