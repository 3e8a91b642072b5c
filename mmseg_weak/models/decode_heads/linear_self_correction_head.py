"""Linear self-correction (`Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_, Sec. 3.3, Eq. 3–5)."""
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .self_correction_head import SelfCorrectionHead


def linear_self_correction(logits: Tensor, ancillary_logits: Tensor,
                           alpha: float) -> Tensor:
    """``q = softmax((l + α l_anc) / (α + 1))`` over the class dimension 1:
    the minimiser of ``KL(q||p) + α KL(q||p_anc)`` (Eq. 3–4)."""
    return F.softmax((logits + alpha * ancillary_logits) / (alpha + 1), dim=1)


@MODELS.register_module()
class LinearSelfCorrectionHead(SelfCorrectionHead):
    """Box-only images are trained towards the weighted geometric mean of the
    primary and the ancillary distributions (Eq. 4–5).

    ``alpha`` is a buffer (saved in checkpoints) set each iteration by
    :class:`~mmseg_weak.engine.hooks.SelfCorrectionAlphaHook` (the paper's
    exponential decay from 30 to 0.5); large α follows the ancillary model,
    α = 0 the primary model.

    Args:
        primary (dict): Config of the primary decode head.
        alpha (float): Initial α. Defaults to 30.
        loss_weak_weight (float): Weight of the box-only term.
        **kwargs: Other :class:`SelfCorrectionHead` arguments (``loss_weak``,
            the box-only loss config; ``init_cfg``).
    """

    def __init__(self, primary: dict, alpha: float = 30.0,
                 loss_weak_weight: float = 1.0, **kwargs) -> None:
        super().__init__(primary, loss_weak_weight=loss_weak_weight, **kwargs)
        self.register_buffer('alpha', torch.tensor(float(alpha)))

    def weak_target(self, seg_logits: Tensor,
                    ancillary_logits: Tensor) -> Tensor:
        return linear_self_correction(seg_logits, ancillary_logits,
                                      float(self.alpha))
