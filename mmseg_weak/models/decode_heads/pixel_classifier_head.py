"""Extra pixel classifier on decoder features: the auxiliary classifier
``C_w`` of the image-label extension of Context-Aware Consistency.

Lai et al., *Semi-supervised Semantic Segmentation with Directional
Context-aware Consistency*, CVPR 2021, Sec. 3.5 and 4.4
(https://arxiv.org/abs/2106.14133): besides the main classifier ``C`` (trained
on the pixel-labeled images), a second classifier ``C_w`` on the same encoder
features is trained on the coarse CAM pseudo-labels of the image-labeled
images, so that they do not corrupt ``C``; ``C_w`` is discarded at inference.
"""
from typing import Sequence, Union

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import Tensor

__all__ = ['PixelClassifierHead']


@MODELS.register_module()
class PixelClassifierHead(BaseDecodeHead):
    """``[dropout] -> 1x1 conv`` on already decoded features.

    The input is the decoder feature map before the main classifier (what a
    decode head feeds to its own ``cls_seg``), e.g. the 512-channel PSP /
    DeepLabV3+ bottleneck output; this head only classifies it. Everything
    else is :class:`~mmseg.models.decode_heads.decode_head.BaseDecodeHead`:
    ``loss_by_feat`` upsamples the logits to the label size and applies
    ``loss_decode`` (with ``ignore_index``), so the loss, its weight and name
    are configured as for any MMSeg head, e.g.
    ``loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4,
    loss_name='loss_weak')``.

    Args:
        in_channels (int): Channels of the decoder features (also the
            classifier's input width, ``channels`` of the base class).
        **kwargs: Other :class:`BaseDecodeHead` arguments (``num_classes``,
            ``dropout_ratio``, ``loss_decode``, ``ignore_index``,
            ``align_corners``, ...); ``channels`` must not be given.
    """

    def __init__(self, in_channels: int, **kwargs) -> None:
        if 'channels' in kwargs:
            raise TypeError('PixelClassifierHead classifies its input '
                            'directly: give in_channels, not channels')
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        super().__init__(in_channels=in_channels, channels=in_channels,
                         **kwargs)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Classify ``(B, in_channels, H, W)`` decoder features (a tensor, or
        a sequence from which ``in_index`` is taken).

        Returns:
            Tensor: ``(B, num_classes, H, W)`` logits (``out_channels``).
        """
        feats = inputs if isinstance(inputs, Tensor) else \
            self._transform_inputs(inputs)
        if feats.dim() != 4 or feats.size(1) != self.in_channels:
            raise ValueError(
                f'PixelClassifierHead expects (B, {self.in_channels}, H, W) '
                f'decoder features, got {tuple(feats.shape)}')
        return self.cls_seg(feats)
