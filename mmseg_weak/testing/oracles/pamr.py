"""A plain, deliberately literal PAMR used as the test oracle.

It follows the semantics of the authors' implementation (visinf/1-stage-wseg)
step by step, materialising every intermediate tensor like it does:

- per dilation ``d``: replicate-pad by ``d`` and take the taps of a 3x3 kernel
  dilated by ``d`` with one-hot convolution kernels;
- ``sigma``: unbiased std over the 9 taps of all dilations together
  (``B x K x 9D x H x W`` tensor), per colour channel;
- affinity: ``-|I_centre - I_neighbour| / (1e-8 + 0.1 * sigma)`` for the 8
  non-centre taps of each dilation, mean over colour channels, softmax over
  the ``8D`` neighbours;
- each iteration: ``8D`` neighbour copies of the mask (``B x C x 8D x H x W``),
  weighted and summed.

As slow and as memory-hungry as the reference; only for tests and the
benchmark.
"""
import torch
import torch.nn.functional as F


def _one_hot_kernels(with_centre: bool) -> torch.Tensor:
    kernels = []
    for r in range(3):
        for c in range(3):
            if (r, c) == (1, 1) and not with_centre:
                continue
            k = torch.zeros(1, 3, 3)
            k[0, r, c] = 1
            kernels.append(k)
    return torch.stack(kernels)  # (P, 1, 3, 3)


def _taps(x: torch.Tensor, dilations, with_centre: bool) -> torch.Tensor:
    """(B, K, H, W) -> (B, K, P * len(dilations), H, W) neighbour copies."""
    b, k, h, w = x.shape
    flat = x.reshape(b * k, 1, h, w)
    kernel = _one_hot_kernels(with_centre).to(x)
    out = []
    for d in dilations:
        padded = F.pad(flat, [d] * 4, mode='replicate')
        out.append(F.conv2d(padded, kernel, dilation=d))
    return torch.cat(out, 1).reshape(b, k, -1, h, w)


def oracle_affinity(image: torch.Tensor, dilations) -> torch.Tensor:
    """(B, K, H, W) image -> (B, 8D, H, W) neighbour weights."""
    image = image.float()
    std = _taps(image, dilations, with_centre=True).std(2, keepdim=True)
    diff = (image.unsqueeze(2) - _taps(image, dilations, False)).abs()
    logits = (-diff / (1e-8 + 0.1 * std)).mean(1)
    return torch.softmax(logits, 1)


@torch.no_grad()
def oracle_pamr(image: torch.Tensor, mask: torch.Tensor, num_iter: int = 10,
                dilations=(1, 2, 4, 8, 12, 24)) -> torch.Tensor:
    mask = F.interpolate(mask.float(), size=image.shape[-2:],
                         mode='bilinear', align_corners=True)
    aff = oracle_affinity(image, dilations).unsqueeze(1)
    for _ in range(num_iter):
        mask = (_taps(mask, dilations, with_centre=False) * aff).sum(2)
    return mask
