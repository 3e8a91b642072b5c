"""DeepLabV3+'s decode head with plain (not depthwise separable) convolutions
and its decoder features exposed, as Context-Aware Consistency trains it.

Chen et al., *Encoder-Decoder with Atrous Separable Convolution for Semantic
Image Segmentation*, ECCV 2018 (https://arxiv.org/abs/1802.02611), in the
variant of the code of Lai et al., *Semi-supervised Semantic Segmentation
with Directional Context-aware Consistency*, CVPR 2021
(dvlab-research/Context-Aware-Consistency, ``models/modeling/aspp.py``,
``decoder.py``, ``deeplab.py`` and the classifier of ``models/model.py``):
its ASPP and decoder use plain convolutions and element-wise dropout where
MMSeg's ``DepthwiseSeparableASPPHead`` has depthwise separable ones, a 3x3
ASPP bottleneck and channel-wise dropout.
"""
from typing import List, Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn

from ...utils.choices import check_choice
from ..utils.reference_init import kaiming_fan_in_init

__all__ = ['DeepLabV3PlusPlainHead']


def _dropout(p: float) -> nn.Module:
    """Element-wise dropout, or nothing for ``p == 0``."""
    if not 0 <= p < 1:
        raise ValueError(f'dropout rates must be in [0, 1), got {p}')
    return nn.Dropout(p) if p > 0 else nn.Identity()


@MODELS.register_module()
class DeepLabV3PlusPlainHead(BaseDecodeHead):
    """DeepLabV3+ decoder with plain convolutions; ``_forward_feature``
    returns the features its classifier sees.

    Layout (the defaults are the authors' values; ``channels`` = 256 and
    ``c1_in_channels`` = 256 for ResNet-50/101 in their code):

    1. ASPP on the deep input (``in_index``): one plain conv per rate of
       ``dilations`` (1x1 for rate 1, else 3x3 with padding = rate;
       MMSeg's ``ASPPModule``, as ``StochasticGateASPPHead(aspp_type=
       'plain')``) and the image pooling branch (global average pooling,
       1x1 conv, resized back bilinearly), concatenated in the authors'
       order (the atrous branches, then the pooling one), then a 1x1
       projection to ``channels`` and element-wise ``Dropout(aspp_dropout)``
       (``aspp.py`` ``ASPP``: ``conv1`` + ``bn1`` + ReLU + ``Dropout(0.5)``);
    2. skip: the shallow input ``inputs[0]`` (ResNet stage 1) through a 1x1
       conv to ``c1_channels`` (their 256 -> 48); the ASPP output resized
       bilinearly to its size and concatenated before it (ASPP first);
    3. decoder: 3x3 conv to ``channels``, element-wise
       ``Dropout(decoder_dropout)``, 3x3 conv (``decoder.py``
       ``last_conv``): the features of ``_forward_feature``;
    4. ``cls_seg``: element-wise ``Dropout(dropout_ratio)`` (0.1) and the
       1x1 classifier with bias (``model.py`` ``classifier``).

    Every conv but the classifier is a ``ConvModule`` (conv without bias,
    then norm and activation: the authors' conv(``bias=False``) + BN + ReLU).
    Every resize uses ``align_corners`` (their ``F.interpolate(...,
    align_corners=True)``, also in the segmentor's output resize).
    ``reference_init=True`` initialises as their ``_init_weight``: every
    conv Kaiming-normal in PyTorch's default ``fan_in`` mode (gain sqrt(2)),
    norm layers weight 1 / bias 0, the classifier's bias PyTorch's default
    (uniform).

    The shallow input is the backbone's first stage, their
    ``low_level_feat``. Differences that do not change the function: MMSeg's
    in-place ReLUs and the module names (e.g. ``aspp_modules.0.conv`` /
    ``.bn`` for their ``aspp1.atrous_conv`` / ``.bn``, ``image_pool.1`` for
    ``global_avg_pool.1-3``, ``bottleneck`` for the ASPP's ``conv1`` /
    ``bn1``, ``c1_bottleneck`` for the decoder's ``conv1`` / ``bn1``,
    ``decoder.0`` / ``decoder.2`` for ``last_conv.0-2`` / ``last_conv.4-6``,
    ``conv_seg`` for ``classifier.1``).

    Args:
        c1_in_channels (int): Channels of the shallow input ``inputs[0]``.
        c1_channels (int): Channels of its projection. Defaults to 48.
        dilations (Sequence[int]): ASPP rates. Defaults to
            ``(1, 6, 12, 18)`` (the authors' at output stride 16).
        aspp_dropout (float): Element-wise dropout after the ASPP
            projection. Defaults to 0.5.
        decoder_dropout (float): Element-wise dropout between the two 3x3
            decoder convs. Defaults to 0.5.
        dropout_type (str): Dropout before ``conv_seg`` (rate
            ``dropout_ratio``): 'element' (``nn.Dropout``, the authors') or
            'channel' (``nn.Dropout2d``, MMSeg's). Defaults to 'element'.
        reference_init (bool): Initialise as the authors (see above) in
            :meth:`init_weights`, after MMSeg's initialisation (which
            ``init_cfg`` configures). Defaults to True.
        align_corners (bool): ``align_corners`` of every resize. Defaults to
            True (the authors').
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels``,
            ``channels``, ``num_classes``, ``dropout_ratio`` = 0.1...).
    """

    def __init__(self,
                 c1_in_channels: int,
                 c1_channels: int = 48,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 aspp_dropout: float = 0.5,
                 decoder_dropout: float = 0.5,
                 dropout_type: str = 'element',
                 reference_init: bool = True,
                 align_corners: bool = True,
                 **kwargs) -> None:
        super().__init__(align_corners=align_corners, **kwargs)
        check_choice('dropout_type', dropout_type, ('element', 'channel'))
        if not isinstance(dilations, (list, tuple)) or not dilations:
            raise ValueError(f'dilations must be a non-empty list or tuple, '
                             f'got {dilations!r}')
        self.dilations = tuple(dilations)
        self.dropout_type = dropout_type
        self.reference_init = reference_init
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), self._conv(self.in_channels, 1))
        self.aspp_modules = ASPPModule(
            self.dilations,
            self.in_channels,
            self.channels,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.bottleneck = self._conv(
            (len(self.dilations) + 1) * self.channels, 1)
        self.aspp_dropout = _dropout(aspp_dropout)
        self.c1_bottleneck = ConvModule(
            c1_in_channels,
            c1_channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.decoder = nn.Sequential(
            self._conv(self.channels + c1_channels, 3),
            _dropout(decoder_dropout), self._conv(self.channels, 3))
        if dropout_type == 'element' and self.dropout is not None:
            # BaseDecodeHead builds nn.Dropout2d(dropout_ratio)
            self.dropout = nn.Dropout(self.dropout_ratio)

    def _conv(self, in_channels: int, kernel_size: int) -> ConvModule:
        """Conv (no bias with a norm layer) + norm + activation to
        ``channels``."""
        return ConvModule(
            in_channels,
            self.channels,
            kernel_size,
            padding=kernel_size // 2,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def init_weights(self) -> None:
        """MMSeg's initialisation, then with ``reference_init`` the
        authors': every ``nn.Conv2d`` Kaiming-normal (``fan_in``, gain
        sqrt(2)) with PyTorch's default bias (only the classifier has one
        when the convs are normalised), norm layers weight 1 and bias 0.
        Runs once, like ``BaseModule.init_weights``."""
        initialised = self.is_init
        super().init_weights()
        if not self.reference_init or initialised:
            return
        kaiming_fan_in_init(self)

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """``(B, channels, H1, W1)`` features before ``cls_seg``, at the
        resolution of ``inputs[0]`` (stride 4 on a ResNet)."""
        x = self._transform_inputs(inputs)
        pooled = resize(
            self.image_pool(x),
            size=x.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        aspp = torch.cat([*self.aspp_modules(x), pooled], dim=1)
        aspp = self.aspp_dropout(self.bottleneck(aspp))
        skip = self.c1_bottleneck(inputs[0])
        aspp = resize(
            aspp,
            size=skip.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        return self.decoder(torch.cat([aspp, skip], dim=1))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.cls_seg(self._forward_feature(inputs))
