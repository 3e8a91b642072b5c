"""Pixel-Adaptive Mask Refinement (PAMR).

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020, Sec. 3.3, Eq. 7-8 (https://arxiv.org/abs/2005.08104).

PAMR iteratively replaces every pixel's class distribution by a convex
combination of its neighbours' distributions (Eq. 7). The weights depend on the
image only (Eq. 8): for a pixel ``(i, j)`` and a neighbour ``(l, n)`` of one of
several dilated 3x3 kernels,

    k = -|I_ij - I_ln| / (1e-8 + 0.1 * sigma_ij),

per colour channel, where ``sigma_ij`` is the (unbiased) standard deviation of
the 9 samples of every dilated 3x3 window around ``(i, j)`` pooled over all
dilations (the centre counted once per dilation). ``k`` is averaged over the
colour channels and a softmax over the ``8 * len(dilations)`` neighbours gives
the weights. Borders are handled by replicate padding, i.e. a neighbour index
outside the image is clamped to the border. These are the semantics of the
authors' implementation (which scales by ``0.1 * sigma`` where the paper writes
``sigma ** 2``), which we match numerically.

Implementation: the affinity is computed once per image as ``K = 8 * D``
weights per pixel; each iteration then adds ``K`` shifted views of one
replicate-padded copy of the mask, weighted in place (``addcmul_``), so no
``B x C x K x H x W`` tensor is ever built. On CPU the batch is processed in
chunks small enough to stay in cache.
"""
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS

__all__ = [
    'PixelAdaptiveMaskRefinement', 'pamr_neighbour_offsets',
    'pamr_affinity', 'pamr_refine'
]

#: Bytes of working data (two padded mask buffers and the flat weights) per
#: CPU chunk: about two 21-class masks of 81x81 pixels, which keeps the 8*D
#: shifted passes of an iteration in cache.
_CPU_CHUNK_BYTES = 10 * 1024 * 1024


def pamr_neighbour_offsets(dilations: Sequence[int]) -> List[Tuple[int, int]]:
    """The ``8 * len(dilations)`` neighbour offsets ``(dy, dx)`` of PAMR.

    For each dilation ``d`` the 8 non-centre taps of a 3x3 kernel dilated by
    ``d``, in raster order.

    Args:
        dilations (Sequence[int]): Dilation rates of the 3x3 kernels.

    Returns:
        list[tuple[int, int]]: The offsets.
    """
    offsets = []
    for d in dilations:
        for dy in (-d, 0, d):
            for dx in (-d, 0, d):
                if dy or dx:
                    offsets.append((dy, dx))
    return offsets


def _shifted(padded: Tensor, pad: int, dy: int, dx: int, height: int,
             width: int) -> Tensor:
    """View of ``padded`` (padded by ``pad`` on every side) shifted by
    ``(dy, dx)``: element ``[..., i, j]`` is the source pixel ``(i+dy, j+dx)``
    with the index clamped to the image (replicate padding)."""
    return padded[..., pad + dy:pad + dy + height, pad + dx:pad + dx + width]


@torch.no_grad()
def pamr_affinity(image: Tensor, dilations: Sequence[int]) -> Tensor:
    """PAMR neighbour weights of an image (Eq. 8 and the softmax).

    Args:
        image (Tensor): ``(B, K, H, W)`` image (any intensity scale: the
            kernel is invariant to a per-channel affine change of intensity).
        dilations (Sequence[int]): Dilation rates of the 3x3 kernels.

    Returns:
        Tensor: ``(B, 8 * len(dilations), H, W)`` weights, each pixel's
        summing to 1, in the order of :func:`pamr_neighbour_offsets`.
    """
    if image.dim() != 4:
        raise ValueError(
            f'image must be (B, K, H, W), got {tuple(image.shape)}')
    dtype = image.dtype if image.is_floating_point() else torch.float32
    image = image.to(dtype)
    _, _, height, width = image.shape
    pad = max(dilations)
    padded = F.pad(image, [pad] * 4, mode='replicate')

    # local standard deviation over the 9 taps of every dilated kernel
    # (centre counted once per dilation), unbiased, two-pass for accuracy
    taps = [(0, 0)] * len(dilations) + pamr_neighbour_offsets(dilations)
    mean = torch.zeros_like(image)
    for dy, dx in taps:
        mean += _shifted(padded, pad, dy, dx, height, width)
    mean /= len(taps)
    var = torch.zeros_like(image)
    for dy, dx in taps:
        diff = _shifted(padded, pad, dy, dx, height, width) - mean
        var.addcmul_(diff, diff)
    var /= len(taps) - 1
    # 1 / (1e-8 + 0.1 * std), shared by all neighbours
    inv_scale = var.sqrt_().mul_(0.1).add_(1e-8).reciprocal_()
    # the softmax below divides by the number of channels (mean over K)
    inv_scale /= -image.shape[1]

    offsets = pamr_neighbour_offsets(dilations)
    logits = image.new_empty((image.shape[0], len(offsets), height, width))
    for k, (dy, dx) in enumerate(offsets):
        diff = (image - _shifted(padded, pad, dy, dx, height, width)).abs_()
        torch.sum(diff.mul_(inv_scale), dim=1, out=logits[:, k])
    return torch.softmax(logits, dim=1)


def _replicate_border_(padded: Tensor, pad: int) -> None:
    """Fill the ``pad``-wide border of ``padded`` in place by replicating the
    interior's edge pixels (what ``F.pad(..., mode='replicate')`` does)."""
    height = padded.shape[-2] - 2 * pad
    width = padded.shape[-1] - 2 * pad
    rows = padded[..., pad:pad + height, :]
    rows[..., :pad].copy_(rows[..., pad:pad + 1].expand_as(rows[..., :pad]))
    rows[..., pad + width:].copy_(rows[..., pad + width - 1:pad +
                                       width].expand_as(rows[..., :pad]))
    padded[..., :pad, :].copy_(padded[..., pad:pad + 1, :].expand_as(
        padded[..., :pad, :]))
    padded[..., pad + height:, :].copy_(
        padded[..., pad + height - 1:pad + height, :].expand_as(
            padded[..., :pad, :]))


def _chunk_size(batch: int, per_image_bytes: int, device: torch.device) -> int:
    """Images per chunk: the whole batch on GPU; on CPU as many as fit in
    :data:`_CPU_CHUNK_BYTES`, and at most a 1/num_threads share of the batch
    so every thread gets work."""
    if device.type != 'cpu':
        return batch
    share = -(-batch // max(torch.get_num_threads(), 1))
    return max(1, min(share, _CPU_CHUNK_BYTES // max(per_image_bytes, 1)))


def _refine_chunk(image: Optional[Tensor], mask: Tensor,
                  affinity: Optional[Tensor], num_iter: int,
                  dilations: Sequence[int], out: Tensor) -> None:
    """PAMR iterations for a chunk of images, written into ``out``."""
    if affinity is None:
        affinity = pamr_affinity(image, dilations)
    affinity = affinity.to(mask.dtype)
    offsets = pamr_neighbour_offsets(dilations)
    num, channels, height, width = mask.shape
    pad = max(dilations)
    padded_h, padded_w = height + 2 * pad, width + 2 * pad
    # Flat layout: a shift (dy, dx) of the padded mask is the contiguous
    # range starting ``dy * padded_w + dx`` further. The computed range covers
    # the interior rows including the horizontal padding between them (whose
    # values are overwritten by the replicate border), from the first interior
    # pixel to the last one.
    first = pad * padded_w + pad
    length = (height - 1) * padded_w + width
    shifts = [dy * padded_w + dx for dy, dx in offsets]
    # weights in the flat layout (zero on the horizontal padding)
    aff = affinity.new_zeros((num, len(offsets), height, padded_w))
    aff[..., :width] = affinity
    aff = aff.view(num, len(offsets), 1, -1)[..., :length]
    buffers = [
        F.pad(mask, [pad] * 4, mode='replicate'),
        mask.new_empty((num, channels, padded_h, padded_w))
    ]
    for it in range(num_iter):
        src = buffers[it % 2].view(num, channels, -1)
        dst = buffers[(it + 1) % 2]
        acc = dst.view(num, channels, -1)[..., first:first + length]
        for k, shift in enumerate(shifts):
            view = src[..., first + shift:first + shift + length]
            if k == 0:
                torch.mul(view, aff[:, k], out=acc)
            else:
                acc.addcmul_(view, aff[:, k])
        if it < num_iter - 1:
            _replicate_border_(dst, pad)
    out.copy_(buffers[num_iter % 2][..., pad:pad + height, pad:pad + width])


@contextlib.contextmanager
def _single_threaded_ops():
    """Run torch CPU ops single-threaded inside the block (the caller
    parallelises over chunks instead), restoring the thread count after."""
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(num_threads)


@torch.no_grad()
def pamr_refine(image: Tensor,
                mask: Tensor,
                num_iter: int = 10,
                dilations: Sequence[int] = (1, 2, 4, 8, 12, 24),
                affinity: Optional[Tensor] = None) -> Tensor:
    """Refine soft masks with PAMR (Eq. 7).

    On CPU the batch is split into cache-sized chunks of images; with more
    than one torch thread the chunks run in parallel, one thread each (for the
    duration of the call ``torch.set_num_threads(1)`` is in effect and then
    restored), which is far faster and steadier than per-operation threading
    for these small operations. On GPU the whole batch is one chunk.

    Args:
        image (Tensor): ``(B, K, H, W)`` image.
        mask (Tensor): ``(B, C, h, w)`` soft masks; resized to ``(H, W)``
            (bilinear, ``align_corners=True``) when the sizes differ.
        num_iter (int): Number of refinement iterations. Defaults to 10.
        dilations (Sequence[int]): Dilation rates of the 3x3 kernels.
            Defaults to ``(1, 2, 4, 8, 12, 24)``.
        affinity (Tensor, optional): Precomputed :func:`pamr_affinity`.

    Returns:
        Tensor: ``(B, C, H, W)`` refined masks (float, no gradient).
    """
    if mask.dim() != 4 or image.dim() != 4:
        raise ValueError('image and mask must be 4-D (B, ., H, W), got '
                         f'{tuple(image.shape)} and {tuple(mask.shape)}')
    if mask.shape[0] != image.shape[0]:
        raise ValueError(f'batch sizes differ: image {image.shape[0]}, '
                         f'mask {mask.shape[0]}')
    dilations = tuple(int(d) for d in dilations)
    height, width = image.shape[-2:]
    mask = mask.detach()
    if not mask.is_floating_point():
        mask = mask.float()
    if tuple(mask.shape[-2:]) != (height, width):
        mask = F.interpolate(
            mask, size=(height, width), mode='bilinear', align_corners=True)
    num_offsets = 8 * len(dilations)
    if affinity is not None and affinity.shape[1] != num_offsets:
        raise ValueError(f'affinity has {affinity.shape[1]} neighbours, '
                         f'dilations {dilations} give {num_offsets}')
    if num_iter <= 0:
        return mask.clone()
    image = image.detach()

    batch, channels = mask.shape[:2]
    pad = max(dilations)
    per_image = (channels * (height + 2 * pad) * (width + 2 * pad) * 2 +
                 num_offsets * height * (width + 2 * pad)) * 4
    chunk = _chunk_size(batch, per_image, mask.device)
    out = torch.empty_like(mask, memory_format=torch.contiguous_format)
    jobs = [(image[s:s + chunk], mask[s:s + chunk],
             None if affinity is None else affinity[s:s + chunk],
             num_iter, dilations, out[s:s + chunk])
            for s in range(0, batch, chunk)]
    workers = min(torch.get_num_threads(), len(jobs))
    if mask.device.type != 'cpu' or workers <= 1:
        for job in jobs:
            _refine_chunk(*job)
        return out
    with _single_threaded_ops(), ThreadPoolExecutor(workers) as executor:
        # list() re-raises a worker's exception here
        list(executor.map(lambda job: _refine_chunk(*job), jobs))
    return out


@MODELS.register_module()
class PixelAdaptiveMaskRefinement(nn.Module):
    """Pixel-Adaptive Mask Refinement (PAMR) as a parameter-free module.

    Araslanov & Roth, CVPR 2020, Sec. 3.3 (https://arxiv.org/abs/2005.08104).
    Runs without gradient; see :func:`pamr_refine`.

    Args:
        num_iter (int): Refinement iterations. Defaults to 10.
        dilations (Sequence[int]): Dilation rates of the 3x3 affinity
            kernels. Defaults to ``(1, 2, 4, 8, 12, 24)``.
    """

    def __init__(self,
                 num_iter: int = 10,
                 dilations: Sequence[int] = (1, 2, 4, 8, 12, 24)) -> None:
        super().__init__()
        if num_iter < 0:
            raise ValueError(f'num_iter must be >= 0, got {num_iter}')
        if not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError(f'dilations must be positive, got {dilations}')
        self.num_iter = int(num_iter)
        self.dilations = tuple(int(d) for d in dilations)

    @torch.no_grad()
    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        """Refine ``mask`` (``(B, C, h, w)``) w.r.t. ``image``
        (``(B, K, H, W)``); returns ``(B, C, H, W)``."""
        return pamr_refine(image, mask, self.num_iter, self.dilations)

    def extra_repr(self) -> str:
        return f'num_iter={self.num_iter}, dilations={self.dilations}'
