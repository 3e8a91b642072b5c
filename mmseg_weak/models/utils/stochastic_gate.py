"""Stochastic Gate (SG) and Global Cue Injection (GCI).

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020, Sec. 3.4, Eq. 9-11 (https://arxiv.org/abs/2005.08104).
"""
from typing import Optional

import torch
from mmcv.cnn import ConvModule, build_norm_layer
from mmseg.registry import MODELS
from torch import Tensor, nn

__all__ = ['StochasticGate', 'GlobalCueInjection']


@MODELS.register_module()
class StochasticGate(nn.Module):
    """Stochastic Gate: mixes deep and shallow features (Eq. 9-10).

    At train time every element takes either the deep or the shallow feature,
    the shallow one with probability ``mix_rate`` (``r ~ Bernoulli(psi)``,
    Eq. 9; one draw per element, like the authors' code, which draws a
    dropout mask of the feature's shape). At test time the deterministic
    expectation ``(1 - psi) * x_deep + psi * x_shallow`` (Eq. 10).

    Reference deviation (``rescale_deep=True``): the authors' code replaces
    ``x_deep`` at train time by ``(x_deep - psi * x_shallow) / (1 - psi)`` so
    that the *train-time* expectation equals ``x_deep``, while keeping Eq. 10
    at test time; train and test then do not share the first moment. The
    default (``False``) follows Eq. 9-10, whose train-time mean equals the
    test-time output; set ``True`` to reproduce the reference numerically.

    Args:
        mix_rate (float): ``psi``, the probability of the shallow feature.
            Defaults to 0.3 (the paper's final model).
        rescale_deep (bool): Reproduce the authors' train-time rescaling of
            the deep features (see above). Defaults to False.
        deterministic (bool): Use the expectation at train time too
            (``r = psi``; the "deterministic" baseline of Table 1c).
            Defaults to False.
    """

    def __init__(self,
                 mix_rate: float = 0.3,
                 rescale_deep: bool = False,
                 deterministic: bool = False):
        super().__init__()
        if not 0.0 <= mix_rate <= 1.0:
            raise ValueError(f'mix_rate must be in [0, 1], got {mix_rate}')
        self.mix_rate = float(mix_rate)
        self.rescale_deep = rescale_deep
        self.deterministic = deterministic

    def forward(self, deep: Tensor, shallow: Tensor) -> Tensor:
        """Mix ``deep`` and ``shallow`` features of the same shape."""
        if deep.shape != shallow.shape:
            raise ValueError('deep and shallow features must have the same '
                             f'shape, got {tuple(deep.shape)} and '
                             f'{tuple(shallow.shape)}')
        psi = self.mix_rate
        if not self.training or self.deterministic:
            return (1.0 - psi) * deep + psi * shallow
        if self.rescale_deep:
            deep = (deep - psi * shallow) / max(1e-8, 1.0 - psi)
        take_shallow = torch.rand_like(deep) < psi
        return torch.where(take_shallow, shallow, deep)

    def extra_repr(self) -> str:
        return (f'mix_rate={self.mix_rate}, rescale_deep={self.rescale_deep}, '
                f'deterministic={self.deterministic}')


@MODELS.register_module()
class GlobalCueInjection(nn.Module):
    """Global Cue Injection: AdaIN of shallow features with a scale and shift
    from globally max-pooled deep features (Eq. 11).

    Following the authors' code:

    - deep path: 1x1 conv to ``2 * channels`` + norm + ReLU, global max
      pooling, split into ``z`` (scale) and ``b`` (shift);
    - shallow path: 1x1 conv to ``channels`` + a parameter-free normalisation
      (``adain_norm_cfg``; the reference uses batch norm without affine, the
      paper's per-instance statistics are ``dict(type='IN')``), then
      ``ReLU(x * (1 + z) + b)`` (the ``1 +`` makes the initial scale 1),
      then a 1x1 conv + norm + ReLU.

    Args:
        shallow_channels (int): Channels of the shallow features.
        deep_channels (int): Channels of the deep features.
        channels (int): Channels of the output (and of the normalised
            shallow features). Defaults to 256.
        conv_cfg (dict, optional): Conv config.
        norm_cfg (dict, optional): Norm config of the conv modules. Defaults
            to ``dict(type='BN')``.
        adain_norm_cfg (dict, optional): Parameter-free norm of the shallow
            features before the modulation. Defaults to ``norm_cfg`` with
            ``affine=False``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
    """

    def __init__(self,
                 shallow_channels: int,
                 deep_channels: int,
                 channels: int = 256,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 adain_norm_cfg: Optional[dict] = None,
                 act_cfg: dict = dict(type='ReLU')) -> None:
        super().__init__()
        self.channels = channels
        self.deep_proj = ConvModule(
            deep_channels,
            2 * channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.shallow_proj = ConvModule(
            shallow_channels,
            channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=None,
            act_cfg=None,
            bias=False)
        if adain_norm_cfg is None:
            if norm_cfg is None:
                raise ValueError('adain_norm_cfg is needed when norm_cfg is '
                                 'None')
            adain_norm_cfg = dict(norm_cfg, affine=False)
            adain_norm_cfg.pop('requires_grad', None)
        _, self.shallow_norm = build_norm_layer(adain_norm_cfg, channels)
        self.out_proj = ConvModule(
            channels,
            channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def global_cues(self, deep: Tensor) -> tuple:
        """Scale ``z`` and shift ``b`` (each ``(B, channels, 1, 1)``) from
        globally max-pooled projected deep features."""
        cues = self.deep_proj(deep).amax(dim=(2, 3), keepdim=True)
        return cues[:, :self.channels], cues[:, self.channels:]

    def forward(self, shallow: Tensor, deep: Tensor) -> Tensor:
        """Augment ``shallow`` (``(B, Cs, H, W)``) with global cues of
        ``deep`` (``(B, Cd, h, w)``); returns ``(B, channels, H, W)``."""
        scale, shift = self.global_cues(deep)
        x = self.shallow_norm(self.shallow_proj(shallow))
        x = torch.relu(x * (1.0 + scale) + shift)
        return self.out_proj(x)
