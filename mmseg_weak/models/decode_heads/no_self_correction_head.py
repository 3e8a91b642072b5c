"""No self-correction (`Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_, Sec. 3.2, Eq. 2)."""
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .self_correction_head import SelfCorrectionHead


@MODELS.register_module()
class NoSelfCorrectionHead(SelfCorrectionHead):
    """Box-only images are trained towards the ancillary distribution:
    ``q = softmax(l_anc)`` (soft cross-entropy of Eq. 2).

    Args:
        primary (dict): Config of the primary decode head.
        loss_weak_weight (float): Weight of the box-only term.
        loss_weak (dict): Config of the box-only loss (default: the soft
            cross-entropy, logged as ``loss_weak``).
    """

    def weak_target(self, seg_logits: Tensor,
                    ancillary_logits: Tensor) -> Tensor:
        return F.softmax(ancillary_logits, dim=1)
