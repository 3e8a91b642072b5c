"""CAM-GAP baseline head: a global-average-pooling classifier whose masks are
normalised class activation maps.

The baseline of Araslanov & Roth, *Single-Stage Semantic Segmentation from
Image Labels*, CVPR 2020 (https://arxiv.org/abs/2005.08104), Sec. 3.2,
Eq. 1-2 (CAM: Zhou et al., CVPR 2016).
"""
from typing import List, Optional, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from .ngwp_head import stack_image_labels

__all__ = ['CAMHead']


@MODELS.register_module()
class CAMHead(BaseDecodeHead):
    """GAP + multi-label soft-margin classifier; masks are normalised CAMs.

    Training: class scores ``y_c = GAP(a_c . x)`` (Eq. 1; a 1x1 conv
    ``conv_seg`` without bias after the head's dropout, then global average
    pooling), the multi-label soft-margin loss (``loss_cls``) against the
    image labels.

    Test: ``CAM_c = ReLU(a_c . x)`` (Eq. 2), resized to the input and divided
    by its maximum (``1e-5 +``) as in the authors' baseline, with a constant
    background channel ``background_score`` prepended; optionally classes
    with ``sigmoid(y_c) < cls_score_thr`` are removed.

    Args:
        background_score (float): Constant background score of the masks.
            Defaults to 0.1 (the authors' ``BG_SCORE``).
        cls_score_thr (float, optional): Confidence threshold to remove
            classes at test time. Defaults to None.
        loss_cls (dict): Classification loss. Defaults to MMSeg's
            ``CrossEntropyLoss(use_sigmoid=True)`` on ``(N, C)`` scores and
            multi-hot labels: the multi-label soft-margin loss of Eq. 6
            (mean over classes and images; equal to
            ``torch.nn.MultiLabelSoftMarginLoss`` to float rounding).
        **kwargs: :class:`BaseDecodeHead` arguments (``channels`` must equal
            the selected input's channels; ``dropout_ratio`` defaults to 0.5
            as the authors' ``Dropout2d(0.5)``).
    """

    def __init__(self,
                 background_score: float = 0.1,
                 cls_score_thr: Optional[float] = None,
                 loss_cls: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     loss_weight=1.0,
                     loss_name='loss_cls'),
                 **kwargs) -> None:
        kwargs.setdefault('dropout_ratio', 0.5)
        super().__init__(**kwargs)
        in_channels = self.in_channels
        if isinstance(in_channels, (list, tuple)):
            in_channels = sum(in_channels)
        if in_channels != self.channels:
            raise ValueError(f'channels ({self.channels}) must equal the '
                             f'input channels ({in_channels})')
        self.conv_seg = nn.Conv2d(
            self.channels, self.num_classes - 1, 1, bias=False)
        self.background_score = background_score
        self.cls_score_thr = cls_score_thr
        self.loss_cls = MODELS.build(loss_cls)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """``(B, num_classes - 1, h, w)`` class activations ``a_c . x``
        (after dropout in training mode)."""
        return self.cls_seg(self._transform_inputs(inputs))

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType, **kwargs) -> dict:
        return self.loss_by_feat(self.forward(inputs), batch_data_samples)

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> dict:
        """``loss_cls`` of the GAP class scores."""
        labels = stack_image_labels(batch_data_samples, self.num_classes,
                                    self.ignore_index).to(seg_logits.device)
        scores = seg_logits.mean(dim=(2, 3))
        return {self.loss_cls.loss_name: self.loss_cls(scores, labels[:, 1:])}

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """``(B, num_classes, H, W)`` normalised CAMs, background first."""
        scores = seg_logits.mean(dim=(2, 3))
        # resized first, then rectified (the authors' order)
        cams = super().predict_by_feat(seg_logits,
                                       batch_img_metas).clamp(min=0)
        cams = cams / (1e-5 + cams.amax(dim=(2, 3), keepdim=True))
        if self.cls_score_thr is not None:
            keep = torch.sigmoid(scores) >= self.cls_score_thr
            cams = cams * keep[:, :, None, None].to(cams.dtype)
        background = cams.new_full((cams.shape[0], 1, *cams.shape[2:]),
                                   self.background_score)
        return torch.cat([background, cams], dim=1)
