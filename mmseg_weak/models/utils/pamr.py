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
weights per pixel (shifted views of one replicate-padded copy of the image).
An iteration is then one weighted gather: with the mask in the ``(H * W, C)``
layout, every pixel is the weighted sum of the ``K`` rows of its neighbours
(their indices clamped to the image, which is replicate padding), i.e. one
``F.embedding_bag`` call with the affinities as per-sample weights. Nothing
of size ``C x K x H x W`` is built, there are ``num_iter`` operations per
image whatever ``K`` is. On CPU the images of a batch run in parallel
worker threads with serial operations; no thread setting of the caller or
of the process is changed (the call is safe from several threads at once).
"""
import functools
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from .serial_threads import map_serial_threads

__all__ = [
    'PixelAdaptiveMaskRefinement', 'pamr_neighbour_offsets',
    'pamr_affinity', 'pamr_refine'
]

#: Bytes of image working data (the image, its padded copy and the
#: per-pixel scale) per chunk of images of :func:`pamr_affinity` on CPU:
#: one or two 3-channel images of about 100x100 pixels, which keeps the
#: shifted passes in cache.
_CPU_CHUNK_BYTES = 1024 * 1024


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
    return _pixel_affinity(image, dilations).permute(0, 3, 1,
                                                     2).contiguous()


def _pixel_affinity(image: Tensor, dilations: Sequence[int]) -> Tensor:
    """:func:`pamr_affinity` in the ``(B, H, W, 8 * len(dilations))``
    layout (a pixel's weights contiguous), computed in chunks of images."""
    dtype = image.dtype if image.is_floating_point() else torch.float32
    batch, channels, height, width = image.shape
    pad = max(dilations)
    out = image.new_empty(
        (batch, height, width, 8 * len(dilations)), dtype=dtype)
    if image.device.type == 'cpu':
        per_image = channels * (2 * height * width +
                                (height + 2 * pad) * (width + 2 * pad)) * 4
        chunk = max(1, _CPU_CHUNK_BYTES // per_image)
    else:
        chunk = batch
    for start in range(0, batch, chunk):
        _affinity_chunk(image[start:start + chunk].to(dtype), dilations,
                        out[start:start + chunk])
    return out


def _affinity_chunk(image: Tensor, dilations: Sequence[int],
                    out: Tensor) -> None:
    """Eq. 8 and the softmax for ``(n, K, H, W)`` images, written into the
    ``(n, H, W, 8 * len(dilations))`` ``out``."""
    _, channels, height, width = image.shape
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
    inv_scale /= -channels

    for k, (dy, dx) in enumerate(pamr_neighbour_offsets(dilations)):
        diff = (image - _shifted(padded, pad, dy, dx, height, width)).abs_()
        torch.sum(diff.mul_(inv_scale), dim=1, out=out[..., k])
    out.copy_(torch.softmax(out, dim=-1))


@functools.lru_cache(maxsize=8)
def _neighbour_index(height: int, width: int, dilations: Tuple[int, ...],
                     device: torch.device) -> Tensor:
    """``(H * W, 8 * len(dilations))`` long: the flat index of every pixel's
    neighbours in the order of :func:`pamr_neighbour_offsets`, clamped to
    the image (replicate padding). Cached (read-only) for the last few
    sizes."""
    offsets = torch.tensor(pamr_neighbour_offsets(dilations), device=device)
    rows = (torch.arange(height, device=device)[:, None] +
            offsets[:, 0]).clamp_(0, height - 1)
    cols = (torch.arange(width, device=device)[:, None] +
            offsets[:, 1]).clamp_(0, width - 1)
    return (rows[:, None, :] * width + cols[None, :, :]).view(
        height * width, -1)


@torch.no_grad()
def pamr_refine(image: Tensor,
                mask: Tensor,
                num_iter: int = 10,
                dilations: Sequence[int] = (1, 2, 4, 8, 12, 24),
                affinity: Optional[Tensor] = None) -> Tensor:
    """Refine soft masks with PAMR (Eq. 7).

    Every iteration is one weighted gather per image (``F.embedding_bag``
    over the ``(H * W, C)`` mask with the affinities as weights). On CPU with
    several torch threads a batch is split into chunks of images that run
    in parallel worker threads, each with serial torch operations, and a
    single image runs serially in the calling thread (see
    :func:`~mmseg_weak.models.utils.serial_threads.map_serial_threads`:
    these small operations gain little from intra-op threads and suffer
    badly from them on a busy CPU). No thread setting of another thread or
    of the process is changed: calling this from several threads at once is
    safe.

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

    # float32/float64 as given; half precision masks are refined in float32
    dtype = mask.dtype if mask.dtype in (torch.float32,
                                         torch.float64) else torch.float32
    image = image.detach()
    index = _neighbour_index(int(height), int(width), dilations,
                             mask.device)
    batch, channels = mask.shape[:2]
    out = torch.empty_like(mask, memory_format=torch.contiguous_format)

    @torch.no_grad()  # (grad mode is per thread)
    def refine(start: int) -> None:
        stop = min(start + chunk, batch)
        if affinity is None:
            weights = _pixel_affinity(image[start:stop], dilations)
        else:
            weights = affinity[start:stop].detach().permute(0, 2, 3, 1)
        weights = weights.to(dtype).reshape(stop - start, height * width,
                                            num_offsets)
        for b in range(start, stop):
            # (H * W, C): a pixel's class scores are one contiguous row
            values = mask[b].reshape(channels, -1).t().to(dtype).contiguous()
            for _ in range(num_iter):
                values = F.embedding_bag(index,
                                         values,
                                         mode='sum',
                                         per_sample_weights=weights[b -
                                                                    start])
            out[b].copy_(values.t().view(channels, height, width))

    # CPU: chunks of images small enough to stay in cache, and at most a
    # 1/threads share of the batch so that every thread gets work
    if mask.device.type == 'cpu':
        per_image = image.shape[1] * (2 * height * width +
                                      (height + 2 * max(dilations)) *
                                      (width + 2 * max(dilations))) * 4
        share = -(-batch // max(torch.get_num_threads(), 1))
        chunk = max(1, min(share, _CPU_CHUNK_BYTES // per_image))
    else:
        chunk = batch
    map_serial_threads(refine, range(0, batch, chunk), mask.device)
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
