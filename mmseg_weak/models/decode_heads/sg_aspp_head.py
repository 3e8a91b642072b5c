"""DeepLabV3+-style nGWP head with a Stochastic Gate and Global Cue Injection
on the skip path.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020 (https://arxiv.org/abs/2005.08104), Sec. 3.4 and Fig. 7.
"""
from typing import List, Optional, Sequence

import torch
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.sep_aspp_head import \
    DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.choices import check_choice
from ..utils.reference_init import kaiming_fan_in_init
from ..utils.stochastic_gate import GlobalCueInjection, StochasticGate
from .ngwp_head import NGWPHead

__all__ = ['StochasticGateASPPHead']


@MODELS.register_module()
class StochasticGateASPPHead(NGWPHead):
    """DeepLabV3+ decoder with SG + GCI, trained with nGWP and PAMR
    self-supervision (see :class:`NGWPHead`).

    Layout (the authors' model, with MMSeg's DeepLabV3+ building blocks):

    1. ASPP on the deep input (``in_index``, e.g. ResNet stage 4):
       ``aspp_type='separable'`` (default): MMSeg's DeepLabV3+ ASPP (image
       pooling + depthwise separable atrous convs + 3x3 bottleneck);
       ``aspp_type='plain'``: the authors' ASPP (1-stage-wseg
       ``models/mods/aspp.py``): plain atrous convs (1x1 for dilation 1,
       3x3 otherwise) + image pooling, concatenated in that order, a 1x1
       bottleneck, each conv followed by BN + ReLU; then ``aspp_dropout``
       (element-wise ``nn.Dropout``, the authors' 0.5);
    2. skip connection: the shallow input ``inputs[0]`` (ResNet stage 1)
       through a 1x1 conv to ``c1_channels``, concatenated with the
       upsampled ASPP output and fused by a 3x3 conv: the deep features
       ``x_d``;
    3. GCI: the shallow input modulated by global cues of ``x_d`` (Eq. 11):
       the shallow features ``x_s``;
    4. SG mixes ``x_d`` and ``x_s`` (Eq. 9-10);
    5. decoder: 3x3 conv, dropout, 3x3 conv, then ``cls_seg`` (with the
       head's ``dropout_ratio``) to the foreground scores.

    The authors' decoder (``models/stage_net.py``, ``SoftMaxAE``) is
    ``aspp_type='plain', aspp_dropout=0.5, dropout_type='element',
    align_corners=True, rescale_deep=True, aspp_norm_eval=True,
    reference_init=True`` with ``dropout_ratio=0.1`` and
    ``decoder_dropout=0.5``; the defaults keep MMSeg's choices.

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
        aspp_type (str): 'separable' (MMSeg's DeepLabV3+ ASPP) or 'plain'
            (the authors' ASPP, see above). Defaults to 'separable'.
        aspp_dropout (float): Element-wise dropout on the ASPP output (after
            its bottleneck). Defaults to 0 (none; the authors: 0.5).
        dropout_type (str): Dropout before ``conv_seg`` (rate
            ``dropout_ratio``): 'channel' (``nn.Dropout2d``, MMSeg's) or
            'element' (``nn.Dropout``, the authors'). Defaults to 'channel'.
        aspp_norm_eval (bool): Keep the ASPP's norm layers in eval mode
            during training, i.e. normalised with their initial running
            statistics (mean 0, variance 1) while their affine parameters
            train, as the authors' ``_fix_running_stats(self.aspp)`` does.
            Defaults to False.
        reference_init (bool): Initialise the head's convolutions as the
            authors' code: Kaiming-normal weights in PyTorch's default
            ``fan_in`` mode (MMSeg's ``ConvModule`` uses ``fan_out``) and
            PyTorch's default bias of the classifier (MMSeg: normal, std
            0.01), applied by :meth:`init_weights`. With frozen ASPP
            statistics the weight scale sets the ASPP output scale. Defaults
            to False.
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
                 aspp_type: str = 'separable',
                 aspp_dropout: float = 0.0,
                 dropout_type: str = 'channel',
                 aspp_norm_eval: bool = False,
                 reference_init: bool = False,
                 **kwargs) -> None:
        super().__init__(num_convs=0, **kwargs)
        check_choice('aspp_type', aspp_type, ('separable', 'plain'))
        check_choice('dropout_type', dropout_type, ('channel', 'element'))
        if not 0 <= aspp_dropout < 1:
            raise ValueError(f'aspp_dropout must be in [0, 1), got '
                             f'{aspp_dropout}')
        self.aspp_type = aspp_type
        self.dropout_type = dropout_type
        self.aspp_norm_eval = aspp_norm_eval
        self.reference_init = reference_init
        self.dilations = tuple(dilations)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            self._conv_module(self.in_channels, self.channels, 1))
        aspp_module = ASPPModule if aspp_type == 'plain' else \
            DepthwiseSeparableASPPModule
        self.aspp_modules = aspp_module(
            dilations=self.dilations,
            in_channels=self.in_channels,
            channels=self.channels,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        # the authors' bottleneck is a 1x1 conv, MMSeg's DeepLabV3+ a 3x3
        kernel = 1 if aspp_type == 'plain' else 3
        self.bottleneck = self._conv_module(
            (len(self.dilations) + 1) * self.channels, self.channels, kernel)
        self.aspp_dropout = nn.Dropout(aspp_dropout) \
            if aspp_dropout > 0 else nn.Identity()
        if dropout_type == 'element' and self.dropout is not None:
            # BaseDecodeHead builds nn.Dropout2d(dropout_ratio)
            self.dropout = nn.Dropout(self.dropout.p)
        self.c1_bottleneck = self._conv_module(c1_in_channels, c1_channels, 1)
        self.fuse = self._conv_module(self.channels + c1_channels,
                                      self.channels, 3)
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
                self.shallow = self._conv_module(c1_in_channels,
                                                 self.channels, 1)
            self.gate = StochasticGate(mix_rate, rescale_deep,
                                       deterministic_gate)
        self.use_gci = use_gci and use_sg
        self.decoder = nn.Sequential(
            self._conv_module(self.channels, self.channels, 3),
            nn.Dropout(decoder_dropout)
            if decoder_dropout > 0 else nn.Identity(),
            self._conv_module(self.channels, self.channels, 3))

    def _aspp_norm_layers(self) -> List[nn.Module]:
        return [
            m for part in (self.image_pool, self.aspp_modules,
                           self.bottleneck) for m in part.modules()
            if isinstance(m, (_BatchNorm, nn.GroupNorm, nn.LayerNorm))
        ]

    def train(self, mode: bool = True) -> 'StochasticGateASPPHead':
        """Train mode, with the ASPP norm layers kept in eval mode when
        ``aspp_norm_eval``."""
        super().train(mode)
        if mode and self.aspp_norm_eval:
            for m in self._aspp_norm_layers():
                m.eval()
        return self

    def init_weights(self) -> None:
        """MMSeg's initialisation, then the authors' with
        ``reference_init``: every conv Kaiming-normal (``fan_in``, gain
        sqrt(2)), conv biases PyTorch's default, norm layers weight 1 and
        bias 0."""
        super().init_weights()
        if not self.reference_init:
            return
        kaiming_fan_in_init(self)

    def _aspp(self, x: Tensor) -> Tensor:
        pool = resize(
            self.image_pool(x),
            size=x.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        if self.aspp_type == 'plain':
            # the authors' order: atrous branches, then the image pooling
            aspp_outs = [*self.aspp_modules(x), pool]
        else:
            aspp_outs = [pool, *self.aspp_modules(x)]
        return self.aspp_dropout(self.bottleneck(torch.cat(aspp_outs, dim=1)))

    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        x = self._transform_inputs(inputs)
        deep = self._aspp(x)
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
