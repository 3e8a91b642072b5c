"""A zero loss that keeps idle parameters in the autograd graph.

Under DDP every trainable parameter must receive a gradient in every step
(unless ``find_unused_parameters=True``, which costs a graph traversal per
step). A branch that has nothing to learn from a batch (no box-only image, a
warm-up, no pseudo-mask view) returns this instead of skipping its loss, so
that its parameters get an exact zero gradient and the logged loss keys stay
the same every iteration.
"""
from typing import List, Union

from torch import Tensor, nn

__all__ = ['zero_loss', 'decode_loss_names']


def zero_loss(*sources: Union[nn.Module, Tensor, None]) -> Tensor:
    """``0 * (sum of the trainable parameters / tensors of sources)``.

    Args:
        *sources (nn.Module | Tensor | None): Modules (their trainable
            parameters) and tensors (e.g. logits of an empty selection);
            ``None`` entries are skipped.

    Returns:
        Tensor: A scalar zero connected to every given parameter / tensor.

    Raises:
        ValueError: Nothing to connect to.
    """
    terms = []
    for source in sources:
        if source is None:
            continue
        if isinstance(source, Tensor):
            terms.append(source.sum())
        else:
            terms += [p.sum() for p in source.parameters() if p.requires_grad]
    if not terms:
        raise ValueError('zero_loss: no trainable parameter or tensor given')
    return sum(terms) * 0.


def decode_loss_names(head: nn.Module) -> List[str]:
    """The ``loss_name`` of each of a decode head's ``loss_decode`` losses
    (the keys its ``loss_by_feat`` writes)."""
    losses = head.loss_decode
    losses = losses if isinstance(losses, nn.ModuleList) else [losses]
    return [loss.loss_name for loss in losses]
