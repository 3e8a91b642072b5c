"""Bounding-box encoder of the ancillary model of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_ (Sec. 3.1, Fig. 2)."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.box_masks import batch_boxes_to_masks


@MODELS.register_module()
class BoxEncoder(BaseModule):
    """Box-attention on selected backbone feature maps.

    For each selected scale, the ``(C+1)``-channel binary box mask (channel
    ``c`` = inside a box of class ``c``; background channel = outside all
    boxes) is rasterised at that feature map's resolution, passed through a
    3×3 convolution and a sigmoid, and the result multiplies the features
    element-wise (an attention map). With the default ``in_index=(0, 3)`` on a
    ResNet this gates the stride-4 low-level features and the encoder output
    that feeds DeepLabV3+'s ASPP — the two paths of the paper's Fig. 2; any
    other indices (scales) work the same way, and unselected outputs pass
    through unchanged.

    Args:
        num_classes (int): Number of classes, background included (C+1).
        in_channels (Sequence[int]): Channels of the selected feature maps, in
            the order of ``in_index``.
        in_index (Sequence[int]): Which backbone outputs to gate.
        kernel_size (int): Size of the attention convolution. Defaults to 3.
        background_index (int): The background channel. Defaults to 0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int],
                 in_index: Sequence[int] = (0, 3),
                 kernel_size: int = 3,
                 background_index: int = 0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(in_index):
            raise ValueError(f'in_channels {tuple(in_channels)} and in_index '
                             f'{tuple(in_index)} differ in length')
        self.num_classes = num_classes
        self.in_index = tuple(in_index)
        self.background_index = background_index
        self.attention_convs = nn.ModuleList(
            nn.Conv2d(num_classes, c, kernel_size, padding=kernel_size // 2)
            for c in in_channels)

    def box_masks(self, bboxes: List[Tensor], labels: List[Tensor],
                  shape: Sequence[int], input_shape: Sequence[int]) -> Tensor:
        """Box masks of the batch on a ``shape`` grid of an input of size
        ``input_shape``."""
        scale = shape[0] / input_shape[0]
        return batch_boxes_to_masks(bboxes, labels, self.num_classes,
                                    tuple(shape), scale,
                                    self.background_index)

    def forward(self, feats: Sequence[Tensor], bboxes: List[Tensor],
                labels: List[Tensor],
                input_shape: Sequence[int]) -> List[Tensor]:
        """Gate the selected feature maps by their box attention.

        Args:
            feats (Sequence[Tensor]): Backbone outputs, ``(B, C_i, H_i, W_i)``.
            bboxes (list[Tensor]): Per image ``(N, 4)`` boxes in input pixels.
            labels (list[Tensor]): Per image ``(N,)`` class ids.
            input_shape (Sequence[int]): ``(H, W)`` of the (padded) input.

        Returns:
            list[Tensor]: The features, selected ones multiplied by attention.
        """
        outs = list(feats)
        for conv, idx in zip(self.attention_convs, self.in_index):
            feat = outs[idx]
            masks = self.box_masks(bboxes, labels, feat.shape[-2:],
                                   input_shape).to(feat.dtype)
            outs[idx] = feat * torch.sigmoid(conv(masks))
        return outs
