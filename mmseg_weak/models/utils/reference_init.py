"""The weight initialisation of the authors' PyTorch decoders.

The reference implementations of single-stage WSSS (Araslanov & Roth, CVPR
2020, https://arxiv.org/abs/2005.08104) and context-aware consistency (Lai et
al., CVPR 2021, https://arxiv.org/abs/2106.14133) initialise their decoders
with PyTorch's Kaiming-normal (fan-in) convolution weights instead of MMCV's
``ConvModule`` default (Kaiming fan-out).
"""
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def kaiming_fan_in_init(module: nn.Module) -> None:
    """Initialise every conv and norm layer of ``module`` as the references.

    Convolutions: ``nn.init.kaiming_normal_`` weights (fan-in, gain
    ``sqrt(2)``) and PyTorch's default bias; affine batch / group norm
    layers: weight 1, bias 0.

    Args:
        module (nn.Module): The module whose layers are re-initialised in
            place.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.reset_parameters()  # PyTorch's default bias
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, (_BatchNorm, nn.GroupNorm)) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
