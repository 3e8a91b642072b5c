"""DeepLabV3+-style nGWP head with a Stochastic Gate and Global Cue Injection
on the skip path.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020 (https://arxiv.org/abs/2005.08104), Sec. 3.4 and Fig. 7.
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmseg.models.decode_heads.sep_aspp_head import \
    DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from ..utils.stochastic_gate import GlobalCueInjection, StochasticGate
from .ngwp_head import NGWPHead

__all__ = ['StochasticGateASPPHead']


@MODELS.register_module()
class StochasticGateASPPHead(NGWPHead):
    """DeepLabV3+ decoder with SG + GCI, trained with nGWP and PAMR
    self-supervision (see :class:`NGWPHead`).

    Layout (the authors' model, with MMSeg's DeepLabV3+ building blocks):

    1. ASPP (image pooling + depthwise separable atrous convs + 3x3
       bottleneck) on the deep input (``in_index``, e.g. ResNet stage 4);
    2. skip connection: the shallow input ``inputs[0]`` (ResNet stage 1)
       through a 1x1 conv to ``c1_channels``, concatenated with the
       upsampled ASPP output and fused by a 3x3 conv: the deep features
       ``x_d``;
    3. GCI: the shallow input modulated by global cues of ``x_d`` (Eq. 11):
       the shallow features ``x_s``;
    4. SG mixes ``x_d`` and ``x_s`` (Eq. 9-10);
    5. decoder: 3x3 conv, dropout, 3x3 conv, then ``cls_seg`` (with the
       head's ``dropout_ratio``) to the foreground scores.

    Args:
        c1_in_channels (int): Channels of the shallow input ``inputs[0]``.
        c1_channels (int): Channels of its projection on the skip path.
            Defaults to 48.
        dilations (Sequence[int]): ASPP dilations. Defaults to
            ``(1, 12, 24, 36)`` (the authors' output-stride-8 rates).
        use_gci (bool): Global Cue Injection on the shallow features (else a
            1x1 conv module). Defaults to True.
        use_sg (bool): Stochastic Gate (else the deep features only, the
            plain DeepLabV3+ decoder). Defaults to True.
        mix_rate (float): ``psi`` of the gate. Defaults to 0.3.
        rescale_deep (bool): See :class:`StochasticGate`. Defaults to False.
        deterministic_gate (bool): Mix with ``r = psi`` at train time too
            (see :class:`StochasticGate`). Defaults to False.
        adain_norm_cfg (dict, optional): See :class:`GlobalCueInjection`.
        decoder_dropout (float): Dropout between the two decoder convs.
            Defaults to 0.5 (the authors'; ``dropout_ratio`` of the head,
            0.1 by default, is the one before ``conv_seg``).
        **kwargs: :class:`NGWPHead` arguments.
    """

    def __init__(self,
                 c1_in_channels: int,
                 c1_channels: int = 48,
                 dilations: Sequence[int] = (1, 12, 24, 36),
                 use_gci: bool = True,
                 use_sg: bool = True,
                 mix_rate: float = 0.3,
                 rescale_deep: bool = False,
                 deterministic_gate: bool = False,
                 adain_norm_cfg: Optional[dict] = None,
                 decoder_dropout: float = 0.5,
                 **kwargs) -> None:
        super().__init__(num_convs=0, **kwargs)
        self.dilations = tuple(dilations)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(
                self.in_channels,
                self.channels,
                1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg))
        self.aspp_modules = DepthwiseSeparableASPPModule(
            dilations=self.dilations,
            in_channels=self.in_channels,
            channels=self.channels,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.bottleneck = ConvModule(
            (len(self.dilations) + 1) * self.channels,
            self.channels,
            3,
            padding=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.c1_bottleneck = ConvModule(
            c1_in_channels,
            c1_channels,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.fuse = ConvModule(
            self.channels + c1_channels,
            self.channels,
            3,
            padding=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.use_sg = use_sg
        if use_sg:
            if use_gci:
                self.shallow = GlobalCueInjection(
                    c1_in_channels,
                    self.channels,
                    self.channels,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    adain_norm_cfg=adain_norm_cfg,
                    act_cfg=self.act_cfg)
            else:
                self.shallow = ConvModule(
                    c1_in_channels,
                    self.channels,
                    1,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg)
            self.gate = StochasticGate(mix_rate, rescale_deep,
                                       deterministic_gate)
        self.use_gci = use_gci and use_sg
        self.decoder = nn.Sequential(
            ConvModule(
                self.channels,
                self.channels,
                3,
                padding=1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg),
            nn.Dropout(decoder_dropout)
            if decoder_dropout > 0 else nn.Identity(),
            ConvModule(
                self.channels,
                self.channels,
                3,
                padding=1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg))

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        x = self._transform_inputs(inputs)
        aspp_outs = [
            resize(
                self.image_pool(x),
                size=x.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        ]
        aspp_outs.extend(self.aspp_modules(x))
        deep = self.bottleneck(torch.cat(aspp_outs, dim=1))
        shallow_in = inputs[0]
        skip = self.c1_bottleneck(shallow_in)
        deep = resize(
            deep,
            size=skip.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        deep = self.fuse(torch.cat([deep, skip], dim=1))
        if self.use_sg:
            if self.use_gci:
                shallow = self.shallow(shallow_in, deep)
            else:
                shallow = self.shallow(shallow_in)
            deep = self.gate(deep, shallow)
        return self.decoder(deep)
