"""Base of the self-correction heads of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_ (Sec. 3.2–3.4)."""
from typing import Dict, List, Optional, Sequence

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ...utils.supervision import BOX, FULL, indices_with_supervision
from ..losses.soft_cross_entropy_loss import \
    soft_cross_entropy as _soft_cross_entropy
from ..utils.zero_loss import decode_loss_names, zero_loss


def soft_cross_entropy(logits: Tensor, target: Tensor,
                       valid: Tensor) -> Tensor:
    """Mean over valid pixels of ``-sum_c target_c log softmax(logits)_c``.

    Kept for the public API (exported by ``mmseg_weak.models.decode_heads``);
    the heads use :class:`~mmseg_weak.models.losses.SoftCrossEntropyLoss`,
    of which this is the ``'mean'`` with ``valid`` as the weight.

    Args:
        logits (Tensor): ``(B, C, H, W)`` logits.
        target (Tensor): ``(B, C, H, W)`` probabilities (no gradient taken).
        valid (Tensor): ``(B, H, W)`` bool mask of pixels that count.
    """
    return _soft_cross_entropy(logits, target, weight=valid)


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
    - ``'box'`` samples: ``loss_weak`` (by default the soft cross-entropy
      :class:`~mmseg_weak.models.losses.SoftCrossEntropyLoss`) to ``q`` (no
      gradient through ``q``), with the un-padded-pixel mask as its
      ``weight`` (the soft cross-entropy averages over those pixels), times
      ``loss_weak_weight`` (Eq. 2/5/6 second term), logged under the loss's
      ``loss_name`` (``loss_weak`` by default).

    ``q`` is formed at the head's logit resolution and, like the logits,
    bilinearly upsampled to the label size (as MMSeg does for its losses).
    At test time the head is the primary head: the checkpoint evaluates with
    ``tools/test.py`` and needs no boxes.

    ``loss_weak`` is any loss config called as ``loss(logits, q,
    weight=valid)`` with ``(N, C, H, W)`` logits and target, e.g. wrapped in
    :class:`~mmseg_weak.models.losses.PUSLoss`::

        loss_weak=dict(type='PUSLoss', mode='clamp', beta=0.5, kappa=0.5,
                       loss=dict(type='SoftCrossEntropyLoss'))

    Args:
        primary (dict): Config of the primary decode head (any MMSeg head).
        loss_weak_weight (float): Weight of the box-only term. Defaults to 1.
            It multiplies the loss's own ``loss_weight``; setting both (each
            different from 1) is an error: set one of them.
        loss_weak (dict): Config of the box-only loss. Defaults to
            ``dict(type='SoftCrossEntropyLoss', loss_name='loss_weak')``.
        init_cfg (dict, optional): Initialisation config of this wrapper.
    """

    #: supervisions whose samples need ancillary logits
    ancillary_supervisions = (BOX, )

    def __init__(self,
                 primary: ConfigType,
                 loss_weak_weight: float = 1.0,
                 loss_weak: ConfigType = dict(
                     type='SoftCrossEntropyLoss', loss_name='loss_weak'),
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
        self.loss_weak = MODELS.build(loss_weak)
        inner_weight = getattr(self.loss_weak, 'loss_weight', 1.0)
        if loss_weak_weight != 1 and inner_weight != 1:
            raise ValueError(
                f'the box-only loss weight is given twice: loss_weak_weight='
                f"{loss_weak_weight} and loss_weak's loss_weight="
                f'{inner_weight}; set one of them')
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
                f"'full' and 'box' samples, got "
                f"{bad.metainfo['supervision']!r}")
        if full:
            losses.update(
                self.primary.loss_by_feat(
                    seg_logits[full], [batch_data_samples[i] for i in full]))
        else:  # keep every parameter in the graph (DDP) with a zero loss
            zero = zero_loss(seg_logits)
            for name in decode_loss_names(self.primary):
                losses[name] = zero
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
            value = self.loss_weak_weight * self.loss_weak(
                logits, target, weight=valid)
            name = self.loss_weak.loss_name
            losses[name] = losses[name] + value if name in losses else value
        return losses
