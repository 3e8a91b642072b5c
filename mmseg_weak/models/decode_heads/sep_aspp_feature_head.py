"""DeepLabV3+'s decode head with its decoder features exposed.

Chen et al., *Encoder-Decoder with Atrous Separable Convolution for Semantic
Image Segmentation*, ECCV 2018 (https://arxiv.org/abs/1802.02611), as MMSeg's
``DepthwiseSeparableASPPHead``, whose ``forward`` computes the decoder
features (ASPP + the low-level c1 branch + the separable bottleneck) inline:
the ``_forward_feature`` it inherits from ``ASPPHead`` skips the c1 branch.
Methods that work on the features before the classifier (the projector of
Context-Aware Consistency, Lai et al., CVPR 2021) need them.
"""
from typing import List

import torch
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

__all__ = ['DepthwiseSeparableASPPFeatureHead']


@MODELS.register_module()
class DepthwiseSeparableASPPFeatureHead(DepthwiseSeparableASPPHead):
    """``DepthwiseSeparableASPPHead`` with ``_forward_feature`` returning the
    decoder features that its classifier (``cls_seg``) sees.

    Same parameters (a drop-in replacement: its checkpoints load into
    ``DepthwiseSeparableASPPHead`` and back) and the same output; ``forward``
    is ``cls_seg(_forward_feature(inputs))`` as in ``PSPHead``.

    Args:
        c1_in_channels (int): Channels of the low-level (c1) input.
        c1_channels (int): Channels of the c1 branch.
        **kwargs: ``ASPPHead`` / ``BaseDecodeHead`` arguments.
    """

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """``(B, channels, H/4, W/4)`` features before ``cls_seg``."""
        x = self._transform_inputs(inputs)
        aspp_outs = [
            resize(
                self.image_pool(x),
                size=x.size()[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        ]
        aspp_outs.extend(self.aspp_modules(x))
        output = self.bottleneck(torch.cat(aspp_outs, dim=1))
        if self.c1_bottleneck is not None:
            c1_output = self.c1_bottleneck(inputs[0])
            output = resize(
                input=output,
                size=c1_output.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
            output = torch.cat([output, c1_output], dim=1)
        return self.sep_bottleneck(output)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.cls_seg(self._forward_feature(inputs))
