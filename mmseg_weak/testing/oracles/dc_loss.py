"""A literal re-implementation of the Directional Contrastive loss computation
of the authors' code (Lai et al., CVPR 2021, https://arxiv.org/abs/2106.14133,
dvlab-research/Context-Aware-Consistency): both directions for all overlap
pixels, chunks of negatives through ``torch.utils.checkpoint``, float masks,
the maximum shift of the first chunk. Test oracle and benchmark reference
only (slow)."""
import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

__all__ = ['reference_dc_loss']


def reference_dc_loss(feat1: torch.Tensor,
                      feat2: torch.Tensor,
                      logits1: torch.Tensor,
                      logits2: torch.Tensor,
                      negs: torch.Tensor,
                      neg_labels: torch.Tensor,
                      tau: float = 0.1,
                      gamma: float = 0.75,
                      chunk: int = 8000) -> torch.Tensor:
    """The authors' computation of the DC loss, re-stated (not their code).

    Args:
        feat1, feat2 (Tensor): ``(N, D)`` overlap features of both views.
        logits1, logits2 (Tensor): ``(N, C)`` classifier logits.
        negs (Tensor): ``(M, D)`` negatives (constants).
        neg_labels (Tensor): ``(M,)`` their pseudo-labels.
        tau (float): Temperature.
        gamma (float): Positive filtering threshold.
        chunk (int): Negatives per checkpointed chunk (8000 as the authors).

    Returns:
        Tensor: ``loss_1 + loss_2``.
    """
    f1, f2 = F.normalize(feat1, dim=1), F.normalize(feat2, dim=1)
    bank = F.normalize(negs, dim=1).detach()
    conf1 = F.softmax(logits1, 1).max(1)[0].detach()
    conf2 = F.softmax(logits2, 1).max(1)[0].detach()
    label1, label2 = logits1.max(1)[1].detach(), logits2.max(1)[1].detach()

    def first_chunk(pos, anchor, part, part_labels, anchor_labels):
        mask = (part_labels[None, :] != anchor_labels[:, None]).float()
        logits = torch.cat([pos, anchor @ part.t() / tau], 1)
        mask = torch.cat([torch.ones_like(pos), mask], 1)
        shift = logits.max(1, keepdim=True)[0]
        return (torch.exp(logits - shift) * mask).sum(1), shift

    def other_chunk(anchor, part, part_labels, anchor_labels, shift):
        mask = (part_labels[None, :] != anchor_labels[:, None]).float()
        logits = anchor @ part.t() / tau
        return (torch.exp(logits - shift) * mask).sum(1)

    def one_direction(anchor, target, anchor_labels, conf_anchor,
                      conf_target):
        pos = (anchor * target.detach()).sum(1, keepdim=True) / tau
        down = torch.zeros(anchor.shape[0], device=anchor.device)
        shift = None
        for start in range(0, max(bank.shape[0], 1), chunk):
            part = bank[start:start + chunk]
            part_labels = neg_labels[start:start + chunk]
            if shift is None:
                summed, shift = checkpoint(
                    first_chunk, pos, anchor, part, part_labels,
                    anchor_labels, use_reentrant=True)
            else:
                summed = checkpoint(
                    other_chunk, anchor, part, part_labels, anchor_labels,
                    shift, use_reentrant=True)
            down = down + summed
        ratio = torch.exp(pos - shift).squeeze(1) / (down + 1e-8)
        pos_mask = ((conf_target > gamma) &
                    (conf_anchor < conf_target)).float()
        loss = -torch.log(ratio + 1e-8)
        return (loss * pos_mask).sum() / (pos_mask.sum() + 1e-12)

    return one_direction(f1, f2, label1, conf1, conf2) + \
        one_direction(f2, f1, label2, conf2, conf1)
