"""Directional Contrastive (DC) loss of Context-Aware Consistency (CAC).

Lai et al., *Semi-supervised Semantic Segmentation with Directional
Context-aware Consistency*, CVPR 2021, Sec. 3.3-3.4, Eq. 1-8
(https://arxiv.org/abs/2106.14133).

Two crops of an unlabeled image overlap; the features of the overlap in the
two crops (``phi_o1``, ``phi_o2``) form positive pairs pixel by pixel. For an
anchor ``a`` (l2-normalised) with detached target ``t`` and negatives ``n_j``
(l2-normalised projected features of sampled pixels of all unlabeled views of
the batch, of all processes, and of the memory bank), with ``tau`` the
temperature,

    p = a.t / tau,   x_j = a.n_j / tau,   M_j = [label(n_j) != label(a)],
    r = exp(p) / (exp(p) + sum_j M_j exp(x_j)),
    l = -log r                                                  (Eq. 5-6)

and a pixel is an anchor of direction ``1 <- 2`` (view 1 pulled toward view
2) iff ``conf2 > conf1`` and ``conf2 > gamma`` (directional mask Eq. 2 and
positive filtering Eq. 7), ``conf`` being the maximum softmax probability of
the classifier and ``label`` its argmax (Eq. 4). The loss of one process is
``mean(l over anchors 1<-2) + mean(l over anchors 2<-1)`` (Eq. 8, averaged as
the authors' code does).

Semantics of the authors' implementation that the paper leaves open and that
we match (``dvlab-research/Context-Aware-Consistency``, ``models/model.py``):

* the logits are shifted by their row maximum, taken over the positive *and
  all* negatives (also those removed by the negative mask), and two guards
  are added: ``r = e^(p-m) / (e^(p-m) + sum_j M_j e^(x_j-m) + 1e-8)`` and
  ``l = -log(r + 1e-8)`` (which caps a pixel's loss at ``-log 1e-8 = 18.42``
  and damps its gradient there); each direction is averaged as
  ``sum(l) / (number of anchors + 1e-12)`` (0 without anchors).
  The authors compute the maximum over the positive and the first 8,000
  negatives only (their chunk); for 8,000 negatives or fewer both maxima are
  equal, beyond that only the ``1e-8`` denominator guard can see the
  difference (the rest is shift invariant);
* negatives carry no gradient at all: they are gathered from all processes
  under ``no_grad`` and even the local ones are taken from the gathered copy,
  so we detach them (also in the memory bank);
* the target of each positive pair is detached, the anchor gets the gradient;
  the gradient through the maximum shift (zero without the ``1e-8`` guard)
  is ignored;
* ``num_negatives`` pixels are sampled uniformly without replacement from
  each group of negatives passed (the authors: ``selected_num`` from the
  ``B*h*w`` pixels of view 1 and as many of view 2), then gathered from all
  processes in rank order;
* the memory bank keeps the negatives of the last ``memory_bank_size``
  steps (the authors' ``step_save``) and the current step's are appended:
  ``(memory_bank_size + 1)`` steps of negatives are used.

Implementation: the authors evaluate both directions for every overlap pixel
and keep the ``(anchors x 8000)`` blocks of logits, masks and exponentials
for ``torch.utils.checkpoint``, which recomputes them in the backward pass.
Here only the anchors that pass the masks are evaluated (each pixel belongs
to one direction at most), anchors are grouped by pseudo-label and the
negatives sorted by pseudo-label so that the negative mask is one contiguous
column block that is zeroed, and each block of ``chunk_size`` anchors is
processed completely in one pass: since the negatives are constants, the
gradient with respect to the anchors, ``sum_j w_j n_j / tau``, is
accumulated in the forward pass into an ``(anchors x D)`` tensor and the
backward pass is an elementwise product. Only one ``(chunk_size x
num_negatives)`` block exists at any time and it is never recomputed.
"""
from collections import deque
from typing import Deque, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine import dist
from mmseg.registry import MODELS
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

__all__ = [
    'directional_contrastive_loss', 'pixel_contrastive_nll',
    'DirectionalContrastiveLoss'
]

#: The authors' guards: ``r = e^p / (Z + EPS)`` and ``l = -log(r + EPS)``.
EPS = 1e-8
#: The authors' guard of the mean over the anchors of one direction.
COUNT_EPS = 1e-12

#: Elements of one (anchors x negatives) block when ``chunk_size`` is None:
#: 32 MiB of float32 on CPU (stays near the last-level cache, measured
#: faster than larger blocks), 1 GiB on GPU.
_BLOCK_ELEMENTS = dict(cpu=2**23, cuda=2**28)

TensorOrSeq = Union[Tensor, Sequence[Tensor]]


def _auto_chunk_size(num_negatives: int, device: torch.device) -> int:
    """Anchors per block so that a block has about
    :data:`_BLOCK_ELEMENTS` elements."""
    budget = _BLOCK_ELEMENTS.get(device.type, _BLOCK_ELEMENTS['cuda'])
    return max(1, budget // max(num_negatives, 1))


class _PixelContrastiveNLL(torch.autograd.Function):
    """Per-anchor ``-log(r + EPS)`` with the gradient computed in the
    forward pass (the negatives are constants); see
    :func:`pixel_contrastive_nll`."""

    @staticmethod
    def forward(ctx, anchors: Tensor, pos_logits: Tensor,
                anchor_labels: Tensor, negatives: Tensor, neg_labels: Tensor,
                chunk_size: int) -> Tensor:
        # ``negatives`` are already divided by the temperature.
        need_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        num_anchors = anchors.shape[0]
        num_neg = negatives.shape[0]
        nll = anchors.new_empty(num_anchors)
        grad_anchor = anchors.new_zeros(anchors.shape) if need_grad else None
        grad_pos = anchors.new_empty(num_anchors) if need_grad else None

        # sort the negatives by label: the negatives of an anchor's own label
        # are then the contiguous columns [start[c], end[c])
        neg_labels, order = torch.sort(neg_labels, stable=True)
        negatives = negatives[order].contiguous()
        classes = torch.unique(anchor_labels)
        start = torch.searchsorted(neg_labels, classes, right=False).tolist()
        end = torch.searchsorted(neg_labels, classes, right=True).tolist()

        block = anchors.new_empty(min(chunk_size, num_anchors) * num_neg)
        negatives_t = negatives.t()
        for cls, lo, hi in zip(classes.tolist(), start, end):
            rows = (anchor_labels == cls).nonzero().squeeze(1)
            for first in range(0, rows.numel(), chunk_size):
                idx = rows[first:first + chunk_size]
                anchor = anchors[idx]
                pos = pos_logits[idx]
                logits = block[:idx.numel() * num_neg].view(
                    idx.numel(), num_neg)
                torch.mm(anchor, negatives_t, out=logits)
                # shift by the row maximum over positive and all negatives
                shift = torch.maximum(logits.amax(1), pos) \
                    if num_neg else pos
                logits.sub_(shift[:, None]).exp_()
                logits[:, lo:hi] = 0  # negative mask (same pseudo-label)
                pos_exp = torch.exp(pos - shift)
                denom = logits.sum(1).add_(pos_exp).add_(EPS)
                ratio = pos_exp / denom
                nll[idx] = -torch.log(ratio + EPS)
                if not need_grad:
                    continue
                # d l / d p = -c (1 - r), d l / d x_j = c e_j / denom,
                # c = r / (r + EPS)
                coef = ratio / (ratio + EPS)
                grad_pos[idx] = -coef * (1 - ratio)
                weighted = torch.mm(logits[:, :lo], negatives[:lo])
                weighted.addmm_(logits[:, hi:], negatives[hi:])
                grad_anchor[idx] = weighted.mul_((coef / denom)[:, None])
        ctx.save_for_backward(grad_anchor, grad_pos)
        return nll

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_nll: Tensor):
        grad_anchor, grad_pos = ctx.saved_tensors
        grad_anchors = grad_anchor * grad_nll[:, None] \
            if ctx.needs_input_grad[0] else None
        grad_pos_logits = grad_pos * grad_nll \
            if ctx.needs_input_grad[1] else None
        return grad_anchors, grad_pos_logits, None, None, None, None


def pixel_contrastive_nll(anchors: Tensor,
                          targets: Tensor,
                          anchor_labels: Tensor,
                          negatives: Tensor,
                          neg_labels: Tensor,
                          temperature: float = 0.1,
                          chunk_size: Optional[int] = None) -> Tensor:
    """Per-anchor InfoNCE term of the DC loss with negative masking (Eq. 5).

    ``l_i = -log(r_i + 1e-8)`` with
    ``r_i = e^(p_i-m_i) / (e^(p_i-m_i) + sum_j M_ij e^(x_ij-m_i) + 1e-8)``,
    ``p_i = a_i.t_i / tau``, ``x_ij = a_i.n_j / tau``,
    ``M_ij = [neg_labels[j] != anchor_labels[i]]`` and ``m_i`` the maximum of
    ``p_i`` and all ``x_ij``. The gradient flows into ``anchors`` only.

    Memory: one ``(chunk_size x M)`` float32 block plus ``O((K + M) * D)``.

    Args:
        anchors (Tensor): ``(K, D)`` anchor features, l2-normalised.
        targets (Tensor): ``(K, D)`` positive counterparts, l2-normalised
            (detached here).
        anchor_labels (Tensor): ``(K,)`` integer pseudo-labels of the anchors.
        negatives (Tensor): ``(M, D)`` negatives, l2-normalised (detached).
        neg_labels (Tensor): ``(M,)`` integer pseudo-labels of the negatives.
        temperature (float): Temperature ``tau``. Defaults to 0.1.
        chunk_size (int, optional): Anchors per block; None picks a block of
            about 32 MiB on CPU, 1 GiB on GPU.

    Returns:
        Tensor: ``(K,)`` float32 losses.
    """
    if chunk_size is None:
        chunk_size = _auto_chunk_size(negatives.shape[0], anchors.device)
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be positive, got {chunk_size}')
    anchors = anchors.float()
    targets = targets.detach().float()
    negatives = negatives.detach().float() / temperature
    pos_logits = (anchors * targets).sum(1) / temperature
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        return _PixelContrastiveNLL.apply(anchors, pos_logits,
                                          anchor_labels.long(), negatives,
                                          neg_labels.long(), int(chunk_size))


def _check_inputs(feat1: Tensor, feat2: Tensor, logits1: Tensor,
                  logits2: Tensor, neg_feats: Tensor,
                  neg_labels: Tensor) -> None:
    """Raise a ``ValueError`` naming the first inconsistent input."""
    if feat1.dim() != 2 or feat1.shape != feat2.shape:
        raise ValueError(
            f'feat1 {tuple(feat1.shape)} and feat2 {tuple(feat2.shape)} must '
            'both be (N, D): the features of the same N overlap pixels')
    if logits1.dim() != 2 or logits1.shape != logits2.shape or \
            logits1.shape[0] != feat1.shape[0]:
        raise ValueError(
            f'logits1 {tuple(logits1.shape)} and logits2 '
            f'{tuple(logits2.shape)} must both be (N, C) with N = '
            f'{feat1.shape[0]} (the rows of feat1/feat2)')
    if neg_feats.dim() != 2 or neg_feats.shape[1] != feat1.shape[1]:
        raise ValueError(f'neg_feats {tuple(neg_feats.shape)} must be (M, D) '
                         f'with D = {feat1.shape[1]}')
    if neg_labels.shape != neg_feats.shape[:1]:
        raise ValueError(f'neg_labels {tuple(neg_labels.shape)} must be '
                         f'(M,) with M = {neg_feats.shape[0]}')
    if neg_labels.is_floating_point() or neg_labels.is_complex():
        raise ValueError(f'neg_labels must be integer pseudo-labels, got '
                         f'{neg_labels.dtype}')


def directional_contrastive_loss(feat1: Tensor,
                                 feat2: Tensor,
                                 logits1: Tensor,
                                 logits2: Tensor,
                                 neg_feats: Tensor,
                                 neg_labels: Tensor,
                                 temperature: float = 0.1,
                                 pos_thresh: float = 0.75,
                                 chunk_size: Optional[int] = None) -> Tensor:
    """DC loss with negative sampling and positive filtering (Eq. 6-8).

    Row ``i`` of ``feat1``/``feat2``/``logits1``/``logits2`` is the same
    overlap pixel seen in view 1 and view 2. Direction ``1 <- 2`` takes the
    pixels with ``conf2 > conf1`` and ``conf2 > pos_thresh``: anchor
    ``feat1``, detached target ``feat2``, anchor label ``argmax logits1``;
    direction ``2 <- 1`` symmetrically. Returns
    ``mean_1<-2(l) + mean_2<-1(l)`` with ``l`` of
    :func:`pixel_contrastive_nll`.

    Args:
        feat1 (Tensor): ``(N, D)`` projected features of view 1 (normalised
            here).
        feat2 (Tensor): ``(N, D)`` the same pixels in view 2.
        logits1 (Tensor): ``(N, C)`` classifier logits of those pixels in
            view 1 (only used without gradient, for confidence and label).
        logits2 (Tensor): ``(N, C)`` the same for view 2.
        neg_feats (Tensor): ``(M, D)`` all negatives of this step
            (normalised here, detached).
        neg_labels (Tensor): ``(M,)`` their integer pseudo-labels.
        temperature (float): Temperature ``tau``. Defaults to 0.1.
        pos_thresh (float): Positive-filtering threshold ``gamma``. Defaults
            to 0.75.
        chunk_size (int, optional): Anchors per block, see
            :func:`pixel_contrastive_nll`.

    Returns:
        Tensor: Scalar float32 loss.
    """
    _check_inputs(feat1, feat2, logits1, logits2, neg_feats, neg_labels)
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}')
    with torch.no_grad():
        conf1, label1 = F.softmax(logits1.detach().float(), dim=1).max(1)
        conf2, label2 = F.softmax(logits2.detach().float(), dim=1).max(1)
        idx1 = ((conf2 > pos_thresh) & (conf1 < conf2)).nonzero().squeeze(1)
        idx2 = ((conf1 > pos_thresh) & (conf2 < conf1)).nonzero().squeeze(1)
    feat1 = F.normalize(feat1.float(), dim=1)
    feat2 = F.normalize(feat2.float(), dim=1)
    anchors = torch.cat([feat1[idx1], feat2[idx2]])
    targets = torch.cat([feat2[idx1], feat1[idx2]]).detach()
    labels = torch.cat([label1[idx1], label2[idx2]])
    negatives = F.normalize(neg_feats.detach().float(), dim=1)
    nll = pixel_contrastive_nll(anchors, targets, labels, negatives,
                                neg_labels, temperature, chunk_size)
    num1, num2 = idx1.numel(), idx2.numel()
    return nll[:num1].sum() / (num1 + COUNT_EPS) + \
        nll[num1:].sum() / (num2 + COUNT_EPS)


def _as_list(value: TensorOrSeq) -> List[Tensor]:
    return [value] if isinstance(value, Tensor) else list(value)


@torch.no_grad()
def _all_gather_cat(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (``(M_r, ...)``, possibly of different length
    per rank) of every process in rank order; no gradient."""
    if dist.get_world_size() == 1:
        return tensor
    sizes = dist.all_gather(
        torch.tensor([tensor.shape[0]], device=tensor.device))
    sizes = [int(s.item()) for s in sizes]
    padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    gathered = dist.all_gather(padded)
    return torch.cat([g[:s] for g, s in zip(gathered, sizes)])


@MODELS.register_module()
class DirectionalContrastiveLoss(nn.Module):
    """Directional Contrastive loss of Context-Aware Consistency.

    Lai et al., CVPR 2021, Sec. 3.3-3.4, Eq. 1-8
    (https://arxiv.org/abs/2106.14133); see the module docstring for the
    semantics of the authors' implementation that are matched. One call per
    training step:

    1. ``num_negatives`` negatives are sampled uniformly without replacement
       from each group of ``neg_feats`` (with their ``neg_labels``),
       l2-normalised and detached;
    2. they are gathered from all processes (``torch.distributed`` through
       :func:`mmengine.dist.all_gather`, rank order, no gradient) when a
       process group is initialised;
    3. they are appended to the memory bank, which then holds the negatives
       of the current and the ``memory_bank_size`` previous steps (oldest
       first); all of them are the negatives of this step;
    4. :func:`directional_contrastive_loss` is evaluated.

    What the caller passes (the segmentor, per step, for the ``B`` unlabeled
    images of this process, each cropped twice with an overlap):

    * ``feat1``/``feat2``: ``(N, D)`` projector outputs (``Phi`` of the
      paper, before or after l2 normalisation) of the ``N`` overlap pixels of
      all ``B`` images in view 1 and view 2, row ``i`` being the same image
      pixel in both views (crop offsets and flips undone by the caller);
    * ``logits1``/``logits2``: ``(N, C)`` classifier logits of the same
      pixels at the same resolution (confidence = max softmax, pseudo-label =
      argmax; no gradient is taken through them);
    * ``neg_feats``: projected features of all pixels of all ``2B`` views,
      as one ``(P, D)`` tensor or as a list of tensors (the authors' choice:
      ``[view 1 pixels (B*h*w, D), view 2 pixels (B*h*w, D)]``, sampling
      ``num_negatives`` from each); ``neg_labels`` the matching ``(P,)``
      argmax pseudo-labels (tensor or list alike). Every process must pass
      the same number of groups.

    The memory bank lives in plain attributes: it is not part of the
    ``state_dict`` (hence not in checkpoints; after resuming it refills in
    ``memory_bank_size`` steps, as with the authors' code), and
    :meth:`reset_memory_bank` empties it.

    MMSeg's ``weighted_loss`` does not apply: the loss is one value per step
    over anchor-negative pairs (no element-wise map to weight and reduce),
    computed by its own chunked forward / backward
    (:func:`pixel_contrastive_nll`); it keeps ``loss_weight`` and
    ``loss_name`` as MMSeg's losses do.

    Args:
        temperature (float): Temperature ``tau``. Defaults to 0.1.
        pos_thresh (float): Positive filtering threshold ``gamma`` (the
            authors' ``pos_thresh_value``). Defaults to 0.75.
        num_negatives (int, optional): Negatives sampled per group of
            ``neg_feats`` per process and step (``selected_num``; the
            authors use 6400 for VOC, 16200 for Cityscapes); None keeps all.
            Defaults to 6400.
        memory_bank_size (int): Previous steps whose negatives are kept
            (``step_save``; 1 for VOC, 0 for Cityscapes). Defaults to 1.
        chunk_size (int, optional): Anchors per block of the
            ``(anchors x negatives)`` matrix; None picks a block of about
            32 MiB on CPU and 1 GiB on GPU. Defaults to None.
        loss_weight (float): Weight of the loss (the segmentor's ``lambda``
            may be put here or applied by the caller). Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_dc'``.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 pos_thresh: float = 0.75,
                 num_negatives: Optional[int] = 6400,
                 memory_bank_size: int = 1,
                 chunk_size: Optional[int] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dc') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(
                f'temperature must be positive, got {temperature}')
        if num_negatives is not None and num_negatives < 1:
            raise ValueError(
                f'num_negatives must be positive or None, got {num_negatives}')
        if memory_bank_size < 0:
            raise ValueError(
                f'memory_bank_size must be >= 0, got {memory_bank_size}')
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(
                f'chunk_size must be positive or None, got {chunk_size}')
        self.temperature = float(temperature)
        self.pos_thresh = float(pos_thresh)
        self.num_negatives = num_negatives
        self.memory_bank_size = int(memory_bank_size)
        self.chunk_size = chunk_size
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self._bank: Deque[Tuple[Tensor, Tensor]] = deque(
            maxlen=self.memory_bank_size + 1)

    @property
    def memory_bank(self) -> List[Tuple[Tensor, Tensor]]:
        """``(features (M_s, D), labels (M_s,))`` per stored step, oldest
        first; after a call the last entry is that call's negatives."""
        return list(self._bank)

    def reset_memory_bank(self) -> None:
        """Forget all stored negatives."""
        self._bank.clear()

    @torch.no_grad()
    def sample_negatives(self, neg_feats: TensorOrSeq,
                         neg_labels: TensorOrSeq) -> Tuple[Tensor, Tensor]:
        """Sample ``num_negatives`` rows of each group (without replacement),
        l2-normalise and detach them.

        Args:
            neg_feats (Tensor | Sequence[Tensor]): ``(P_g, D)`` per group.
            neg_labels (Tensor | Sequence[Tensor]): ``(P_g,)`` per group.

        Returns:
            tuple[Tensor, Tensor]: ``(M, D)`` float32 features and ``(M,)``
            long labels of this process.
        """
        feats, labels = _as_list(neg_feats), _as_list(neg_labels)
        if len(feats) != len(labels) or not feats:
            raise ValueError(
                f'neg_feats and neg_labels must be two tensors or two '
                f'non-empty lists of the same length, got {len(feats)} and '
                f'{len(labels)} groups')
        out_feats, out_labels = [], []
        for group, (feat, label) in enumerate(zip(feats, labels)):
            if feat.dim() != 2 or label.shape != feat.shape[:1]:
                raise ValueError(
                    f'negative group {group}: features {tuple(feat.shape)} '
                    f'must be (P, D) and labels {tuple(label.shape)} (P,)')
            if label.is_floating_point():
                raise ValueError(
                    f'negative group {group}: labels must be integer '
                    f'pseudo-labels, got {label.dtype}')
            if self.num_negatives is not None:
                if feat.shape[0] < self.num_negatives:
                    raise ValueError(
                        f'negative group {group} has {feat.shape[0]} pixels, '
                        f'fewer than num_negatives={self.num_negatives}')
                keep = torch.randperm(
                    feat.shape[0], device=feat.device)[:self.num_negatives]
                feat, label = feat[keep], label[keep]
            out_feats.append(F.normalize(feat.detach().float(), dim=1))
            out_labels.append(label.long())
        return torch.cat(out_feats), torch.cat(out_labels)

    def forward(self, feat1: Tensor, feat2: Tensor, logits1: Tensor,
                logits2: Tensor, neg_feats: TensorOrSeq,
                neg_labels: TensorOrSeq, **kwargs) -> Tensor:
        """Loss of one step; updates the memory bank (see the class
        docstring for the arguments).

        Returns:
            Tensor: Scalar loss times ``loss_weight``.
        """
        feats, labels = self.sample_negatives(neg_feats, neg_labels)
        feats, labels = _all_gather_cat(feats), _all_gather_cat(labels)
        self._bank.append((feats, labels))
        device = feats.device
        bank_feats = torch.cat([f.to(device) for f, _ in self._bank])
        bank_labels = torch.cat([lab.to(device) for _, lab in self._bank])
        loss = directional_contrastive_loss(
            feat1, feat2, logits1, logits2, bank_feats, bank_labels,
            self.temperature, self.pos_thresh, self.chunk_size)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'pos_thresh={self.pos_thresh}, '
                f'num_negatives={self.num_negatives}, '
                f'memory_bank_size={self.memory_bank_size}, '
                f'chunk_size={self.chunk_size}, '
                f'loss_weight={self.loss_weight}')
