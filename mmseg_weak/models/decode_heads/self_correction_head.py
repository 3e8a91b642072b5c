"""Base of the self-correction heads of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_ (Sec. 3.2–3.4)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ...utils.supervision import BOX, FULL, indices_with_supervision


def soft_cross_entropy(logits: Tensor, target: Tensor,
                       valid: Tensor) -> Tensor:
    """Mean over valid pixels of ``-sum_c target_c log softmax(logits)_c``.

    Args:
        logits (Tensor): ``(B, C, H, W)`` logits.
        target (Tensor): ``(B, C, H, W)`` probabilities (no gradient taken).
        valid (Tensor): ``(B, H, W)`` bool mask of pixels that count.
    """
    per_pixel = -(target.detach() * F.log_softmax(logits, dim=1)).sum(dim=1)
    valid = valid.to(per_pixel.dtype)
    return (per_pixel * valid).sum() / valid.sum().clamp(min=1)


def valid_pixel_mask(data_samples: SampleList, shape: Sequence[int],
                     device) -> Tensor:
    """``(B, H, W)`` mask of the un-padded image area of each sample."""
    mask = torch.zeros(len(data_samples), *shape, dtype=torch.bool,
                       device=device)
    for i, sample in enumerate(data_samples):
        h, w = sample.metainfo.get('img_shape', shape)[:2]
        mask[i, :h, :w] = True
    return mask


class SelfCorrectionHead(BaseDecodeHead):
    """Trains any MMSeg decode head (``primary``) on fully labeled and
    box-only images of one batch, the box-only ones through a target ``q``
    built from the primary logits ``l`` and the frozen ancillary logits
    ``l_anc`` (:meth:`weak_target`, defined by the subclasses).

    - ``'full'`` samples: the primary head's own loss (hard cross-entropy,
      Eq. 2/5/6 first term), on those samples only;
    - ``'box'`` samples: soft cross-entropy to ``q`` (no gradient through
      ``q``), averaged over their un-padded pixels, times
      ``loss_weak_weight`` (Eq. 2/5/6 second term), logged as ``loss_weak``.

    ``q`` is formed at the head's logit resolution and, like the logits,
    bilinearly upsampled to the label size (as MMSeg does for its losses).
    At test time the head is the primary head: the checkpoint evaluates with
    ``tools/test.py`` and needs no boxes.

    Args:
        primary (dict): Config of the primary decode head (any MMSeg head).
        loss_weak_weight (float): Weight of the box-only term. Defaults to 1.
        init_cfg (dict, optional): Initialisation config of this wrapper.
    """

    #: supervisions whose samples need ancillary logits
    ancillary_supervisions = (BOX, )

    def __init__(self,
                 primary: ConfigType,
                 loss_weak_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        primary_head = MODELS.build(primary)
        super().__init__(
            in_channels=primary_head.channels,
            channels=primary_head.channels,
            num_classes=primary_head.num_classes,
            align_corners=primary_head.align_corners,
            ignore_index=primary_head.ignore_index,
            init_cfg=init_cfg)
        # the wrapper's own classifier is unused: the primary head predicts
        del self.conv_seg
        self.primary = primary_head
        self.loss_weak_weight = loss_weak_weight

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Logits of the primary head."""
        return self.primary(inputs)

    def weak_target(self, seg_logits: Tensor,
                    ancillary_logits: Tensor) -> Tensor:
        """Target distribution ``q`` of box-only images, at the head's logit
        resolution (the caller upsamples it; no gradient is taken).

        Args:
            seg_logits (Tensor): ``(N, C, h, w)`` primary logits (detached).
            ancillary_logits (Tensor): ``(N, C, h, w)`` ancillary logits.
        """
        raise NotImplementedError

    def loss(self,
             inputs: List[Tensor],
             batch_data_samples: SampleList,
             train_cfg: ConfigType,
             ancillary_logits: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Forward and compute the losses.

        Args:
            inputs (list[Tensor]): Features of the batch.
            batch_data_samples (list[SegDataSample]): Samples with
                ``supervision`` meta (``'full'`` or ``'box'``).
            train_cfg (dict): Training config.
            ancillary_logits (Tensor, optional): ``(B, C, h, w)`` logits of
                the frozen ancillary model for the samples of
                :attr:`ancillary_supervisions` (others may hold anything).
        """
        seg_logits = self.forward(inputs)
        return self.loss_by_feat(seg_logits, batch_data_samples,
                                 ancillary_logits)

    def _label_size(self, batch_data_samples: SampleList) -> Sequence[int]:
        return batch_data_samples[0].gt_sem_seg.shape

    def loss_by_feat(self,
                     seg_logits: Tensor,
                     batch_data_samples: SampleList,
                     ancillary_logits: Optional[Tensor] = None
                     ) -> Dict[str, Tensor]:
        losses: Dict[str, Tensor] = {}
        full = indices_with_supervision(batch_data_samples, FULL)
        weak = indices_with_supervision(batch_data_samples, BOX)
        others = set(range(len(batch_data_samples))) - set(full) - set(weak)
        if others:
            bad = batch_data_samples[min(others)]
            raise ValueError(
                f"{bad.metainfo.get('img_path')}: self-correction trains on "
                f"'full' and 'box' samples, got {bad.metainfo['supervision']!r}")
        if full:
            losses.update(
                self.primary.loss_by_feat(
                    seg_logits[full], [batch_data_samples[i] for i in full]))
        else:  # keep every parameter in the graph (DDP) with a zero loss
            losses['loss_ce'] = seg_logits.sum() * 0
        if weak:
            if ancillary_logits is None:
                raise ValueError('box-only samples need ancillary logits')
            logits = seg_logits[weak]
            anc = resize(ancillary_logits[weak].to(logits.dtype),
                         size=logits.shape[2:], mode='bilinear',
                         align_corners=self.align_corners)
            with torch.no_grad():
                target = self.weak_target(logits.detach(), anc)
            size = self._label_size(batch_data_samples)
            logits = resize(logits, size=size, mode='bilinear',
                            align_corners=self.align_corners)
            target = resize(target, size=size, mode='bilinear',
                            align_corners=self.align_corners)
            valid = valid_pixel_mask([batch_data_samples[i] for i in weak],
                                     size, logits.device)
            losses['loss_weak'] = self.loss_weak_weight * soft_cross_entropy(
                logits, target, valid)
        return losses
