"""Non-linear projector of `Lai et al., Semi-supervised Semantic Segmentation
with Directional Context-aware Consistency, CVPR 2021
<https://arxiv.org/abs/2106.14133>`_ (Sec. 3.1 and 4.1)."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class Projector(BaseModule):
    """Per-pixel two-layer MLP that maps decoder features to the embedding
    on which the context-aware consistency loss is computed.

    ``[2x2 average pooling] -> 1x1 conv (in -> hidden) -> ReLU -> 1x1 conv
    (hidden -> out) -> [L2 normalisation over channels]``.

    The paper's projector is "an MLP of two FC layers (128 output channels)
    and one intermediate ReLU"; applied to every pixel that is two 1x1
    convolutions. As in the authors' code both convolutions have a bias and
    there is no normalisation layer, and the hidden width equals the input
    width. Stride-4 decoders (DeepLabV3+) are first average-pooled 2x2 so
    that the embedding has stride 8 like PSPNet's (``pool=False``), which is
    also the stride the overlapping crops are aligned to. The authors
    L2-normalise the projection before the loss (cosine similarity);
    ``normalize=True`` does it here.

    Args:
        in_channels (int): Channels of the input features.
        hidden_channels (int, optional): Width of the hidden layer. Defaults
            to ``in_channels``.
        out_channels (int): Embedding size. Defaults to 128 (paper).
        pool (bool): Average-pool 2x2 (stride 2) first. ``True`` for
            stride-4 decoders (DeepLabV3+), ``False`` for stride-8 ones
            (PSPNet). Defaults to False.
        normalize (bool): L2-normalise the output along channels. Defaults
            to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: Optional[int] = None,
                 out_channels: int = 128,
                 pool: bool = False,
                 normalize: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden_channels = hidden_channels or in_channels
        for name, value in (('in_channels', in_channels),
                            ('hidden_channels', hidden_channels),
                            ('out_channels', out_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be a positive int, got '
                                 f'{value!r}')
        self.in_channels = in_channels
        self.pool = pool
        self.normalize = normalize
        self.mlp = nn.Sequential(
            nn.Conv2d(in_channels, hidden_channels, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, out_channels, kernel_size=1))

    def forward(self, feats: Tensor) -> Tensor:
        """Project ``(B, in_channels, H, W)`` features.

        Returns:
            Tensor: ``(B, out_channels, H', W')`` with ``H' = H // 2``,
            ``W' = W // 2`` when ``pool`` (odd sizes drop the last row /
            column), else ``H, W``.
        """
        if feats.dim() != 4 or feats.size(1) != self.in_channels:
            raise ValueError(f'Projector expects (B, {self.in_channels}, H, '
                             f'W) features, got {tuple(feats.shape)}')
        if self.pool:
            feats = F.avg_pool2d(feats, kernel_size=2, stride=2)
        out = self.mlp(feats)
        if self.normalize:
            out = F.normalize(out, p=2, dim=1)
        return out
