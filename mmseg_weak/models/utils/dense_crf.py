"""Fully connected CRF (dense CRF) with Gaussian edge potentials.

Krähenbühl & Koltun, *Efficient Inference in Fully Connected CRFs with
Gaussian Edge Potentials*, NeurIPS 2011 (https://arxiv.org/abs/1210.5644).
Used to post-process class probabilities in weakly supervised segmentation,
e.g. Pseudo-mask Matters (Li et al., 2021, https://arxiv.org/abs/2108.12995,
Sec. 3.1) and Single-Stage WSSS (Araslanov & Roth, CVPR 2020,
https://arxiv.org/abs/2005.08104, Sec. 4).

The energy of a labelling ``x`` is ``sum_i psi_u(x_i) + sum_{i,j}
mu(x_i, x_j) k(f_i, f_j)`` with the unary ``psi_u = -log p`` (``p`` clamped
to ``[1e-5, 1]`` as pydensecrf's ``unary_from_softmax`` does), Potts
compatibilities ``mu = w * [x_i != x_j]`` and two kernels:

* *Gaussian* (smoothness): ``exp(-|p_i - p_j|^2 / (2 sxy^2))`` on the pixel
  positions, weight ``gaussian_compat``;
* *bilateral* (appearance): ``exp(-|p_i - p_j|^2 / (2 sxy^2) - |I_i -
  I_j|^2 / (2 srgb^2))`` on positions and RGB colours, weight
  ``bilateral_compat``.

Mean-field inference iterates ``Q_i(l) ∝ exp(-psi_u(l) + sum_k w_k
sum_j k~_k(i, j) Q_j(l))``, which is the Potts update up to a per-pixel
constant. As in Krähenbühl's implementation (and therefore pydensecrf) the
kernels are symmetrically normalised, ``k~ = D^-1/2 K D^-1/2`` with ``D =
diag(K 1)``, and the sum over ``j`` includes ``j = i``.

Two backends:

* ``'torch'`` (default): pure PyTorch, CPU or GPU. The Gaussian filtering
  ``K Q`` is approximated, as in the reference implementation, with the
  permutohedral lattice (Adams, Baek & Davis, *Fast High-Dimensional
  Filtering Using the Permutohedral Lattice*, Eurographics 2010): every
  feature vector is splatted with barycentric weights onto the ``d + 1``
  vertices of its enclosing lattice simplex, the lattice is blurred with a
  ``[1/2, 1, 1/2]`` kernel along each of its ``d + 1`` axes, and the result
  is sliced back with the same weights. The lattice is built once per kernel
  and image (vectorised: integer vertex keys are packed into int64 codes and
  grouped with one sort, neighbours are found with ``searchsorted``), so a
  filtering is ``d + 3`` weighted gathers (``F.embedding_bag``) of ``(N,
  C)`` rows. The lattice embedding, rounding (ties to even, as in the SSE
  build), blur order and scaling follow Krähenbühl's code, so the output
  matches pydensecrf to float32 round-off (max |prob diff| < 1e-6 measured
  from 1x1 to 375x500 pixels).
* ``'pydensecrf'``: the ``pydensecrf2`` package (module ``pydensecrf``),
  imported lazily; an optional dependency (``pip install
  mmseg-weak[crf]``).
"""
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from .pamr import _single_threaded_ops

__all__ = [
    'dense_crf', 'DenseCRF', 'PermutohedralLattice', 'CRF_BACKENDS',
    'crf_kernels'
]

#: Supported inference backends.
CRF_BACKENDS = ('torch', 'pydensecrf')

#: Probabilities are clamped to ``[_PROB_CLIP, 1]`` before the log, as
#: pydensecrf's ``unary_from_softmax`` does.
_PROB_CLIP = 1e-5

#: Largest product of per-coordinate key ranges packed into one int64 code;
#: beyond it keys are deduplicated row-wise (slower, same result).
_MAX_PACKED_CODE = 2**62

ArrayOrTensor = Union[np.ndarray, Tensor]


class PermutohedralLattice:
    """Approximate Gaussian filter ``out_i = sum_j exp(-|f_i - f_j|^2 / 2)
    v_j`` of values ``v`` on ``N`` points with ``d``-dimensional features.

    The approximation of Adams et al. (2010) in the variant of Krähenbühl's
    dense CRF code (same embedding scale ``sqrt(2/3) (d + 1)``, rounding to
    the nearest remainder-0 point with ties to even, blur axes in order
    ``0..d`` and output scale ``1 / (1 + 2^-d)``). The filter includes the
    point itself and is symmetric.

    Args:
        features (Tensor): ``(N, d)`` features, already divided by the
            kernel's standard deviations. Computation is in float32.
    """

    def __init__(self, features: Tensor) -> None:
        if features.dim() != 2 or features.shape[0] == 0:
            raise ValueError('features must be a non-empty (N, d) tensor, '
                             f'got {tuple(features.shape)}')
        self.num_points, self.dim = features.shape
        self.device = features.device
        self._build(features.float())

    def _build(self, features: Tensor) -> None:
        d, n = self.dim, self.num_points
        device = features.device
        # Elevation onto the hyperplane sum(x) = 0 of R^(d+1), with the
        # diagonal scaling of the lattice (float32 as in the reference).
        inv_std = float(np.float32(math.sqrt(2.0 / 3.0) * (d + 1)))
        scale = torch.tensor(
            [1.0 / math.sqrt((i + 2) * (i + 1)) * inv_std for i in range(d)],
            dtype=torch.float32,
            device=device)
        scaled = features * scale
        elevated = features.new_empty((n, d + 1))
        suffix = features.new_zeros(n)
        for j in range(d, 0, -1):
            elevated[:, j] = suffix - j * scaled[:, j - 1]
            suffix = suffix + scaled[:, j - 1]
        elevated[:, 0] = suffix

        # Nearest remainder-0 lattice point (coordinates multiple of d + 1).
        inv_dp1 = float(np.float32(1.0 / (d + 1)))
        rounded = torch.round(elevated * inv_dp1)
        rem0 = (rounded * (d + 1)).long()
        plane_offset = rounded.sum(1).long()
        # Rank of every coordinate of the residual in decreasing order (ties
        # broken by index); then bring the point back onto the plane.
        delta = elevated - rem0.float()
        less = delta[:, :, None] < delta[:, None, :]
        upper = torch.ones(d + 1, d + 1, dtype=torch.bool,
                           device=device).triu(1)
        rank = ((less & upper).sum(2) + (~less & upper).sum(1) +
                plane_offset[:, None])
        wrap = (rank < 0).long() - (rank > d).long()
        rank += (d + 1) * wrap
        rem0 += (d + 1) * wrap

        # Barycentric coordinates of the point in its simplex.
        residual = (elevated - rem0.float()) * inv_dp1
        bary = features.new_zeros((n, d + 2))
        bary.scatter_add_(1, d - rank, residual)
        bary.scatter_add_(1, d + 1 - rank, -residual)
        bary[:, 0] += 1 + bary[:, d + 1]

        # Simplex vertices: rem0 + canonical[remainder][rank] with
        # canonical[r][k] = r - (d + 1) [k > d - r], keyed by their first d
        # coordinates (the last one is implied by sum = 0).
        r_idx = torch.arange(d + 1, device=device).view(1, d + 1, 1)
        keys = (rem0[:, None, :d] + r_idx - (d + 1) *
                (rank[:, None, :d] > d - r_idx).long())
        vertices = _VertexIndex(keys.view(-1, d))
        self.num_vertices = vertices.size

        # Slice: every point gathers its d + 1 vertices (a bag of d + 1).
        alpha = 1.0 / (1.0 + 2.0**(-d))
        self._slice_index = vertices.inverse.view(n, d + 1)
        self._slice_weight = bary[:, :d + 1] * alpha
        # Splat (the transpose): every vertex gathers the points using it.
        self._splat_index = torch.div(vertices.order,
                                      d + 1,
                                      rounding_mode='floor')
        self._splat_start = vertices.starts
        self._splat_weight = bary[:, :d + 1].reshape(-1)[vertices.order]

        # Blur along each of the d + 1 lattice axes: a vertex plus half of
        # its two neighbours (a missing neighbour points at the vertex itself
        # with weight 0).
        self._blur = []
        own = torch.arange(vertices.size, device=device)
        for axis in range(d + 1):
            step = torch.ones(d, dtype=torch.long, device=device)
            if axis < d:
                step[axis] = -d
            index, weight = [own], [torch.ones(vertices.size, device=device)]
            for sign in (-1, 1):
                found = vertices.find(vertices.keys + sign * step)
                index.append(torch.where(found >= 0, found, own))
                weight.append((found >= 0).float() * 0.5)
            self._blur.append((torch.stack(index, 1), torch.stack(weight, 1)))

    def filter(self, values: Tensor) -> Tensor:
        """Filter ``(N, V)`` float32 ``values``; returns ``(N, V)``."""
        if values.shape[0] != self.num_points:
            raise ValueError(f'values have {values.shape[0]} points, the '
                             f'lattice {self.num_points}')
        lattice = F.embedding_bag(self._splat_index,
                                  values,
                                  self._splat_start,
                                  mode='sum',
                                  per_sample_weights=self._splat_weight)
        for index, weight in self._blur:
            lattice = F.embedding_bag(index,
                                      lattice,
                                      mode='sum',
                                      per_sample_weights=weight)
        return F.embedding_bag(self._slice_index,
                               lattice,
                               mode='sum',
                               per_sample_weights=self._slice_weight)


class _VertexIndex:
    """The distinct rows of a ``(K, d)`` long tensor of lattice keys.

    Attributes:
        size (int): Number ``M`` of distinct keys (vertices).
        keys (Tensor): ``(M, d)`` the distinct keys, in sorted order.
        inverse (Tensor): ``(K, )`` vertex of every input row.
        order (Tensor): ``(K, )`` input rows grouped by vertex.
        starts (Tensor): ``(M, )`` start of every vertex's group in
            ``order``.
    """

    def __init__(self, keys: Tensor) -> None:
        self._low = keys.min(0).values
        self._span = keys.max(0).values - self._low + 1
        packed_range = 1
        for s in self._span.tolist():
            packed_range *= s
        # Pack a key into one int64 (mixed radix) when the range allows,
        # otherwise number the distinct rows (slower, same order).
        self._packed = packed_range < _MAX_PACKED_CODE
        if self._packed:
            strides = [1]
            for s in reversed(self._span.tolist()[1:]):
                strides.insert(0, strides[0] * s)
            self._strides = torch.tensor(strides, device=keys.device)
            codes = self._encode(keys)
        else:
            codes = torch.unique(keys, dim=0, return_inverse=True)[1]
        sorted_codes, self.order = codes.sort(stable=True)
        is_first = torch.ones_like(sorted_codes, dtype=torch.bool)
        is_first[1:] = sorted_codes[1:] != sorted_codes[:-1]
        self.starts = is_first.nonzero()[:, 0]
        self.size = self.starts.numel()
        self._codes = sorted_codes[self.starts]
        self.inverse = torch.empty_like(self.order)
        self.inverse[self.order] = is_first.cumsum(0) - 1
        self.keys = keys[self.order[self.starts]]

    def _encode(self, keys: Tensor) -> Tensor:
        return ((keys - self._low) * self._strides).sum(1)

    def find(self, queries: Tensor) -> Tensor:
        """Vertex of every ``(Q, d)`` query key, -1 where there is none."""
        if self._packed:
            inside = ((queries >= self._low) &
                      (queries < self._low + self._span)).all(1)
            codes = self._encode(queries)
            pos = torch.searchsorted(self._codes,
                                     codes).clamp_max_(self.size - 1)
            found = inside & (self._codes[pos] == codes)
            return torch.where(found, pos, torch.full_like(pos, -1))
        # deduplicate keys and queries together
        inverse = torch.unique(torch.cat([self.keys, queries]),
                               dim=0,
                               return_inverse=True)[1]
        table = inverse.new_full((int(inverse.max()) + 1, ), -1)
        table[inverse[:self.size]] = torch.arange(self.size,
                                                  device=queries.device)
        return table[inverse[self.size:]]


def _check_inputs(probs: ArrayOrTensor, image: ArrayOrTensor, num_iter: int,
                  params: dict, backend: str) -> None:
    """Raise a ValueError naming the problem with the arguments."""
    if backend not in CRF_BACKENDS:
        raise ValueError(f'unknown dense CRF backend {backend!r}, expected '
                         f'one of {CRF_BACKENDS}')
    for name, value in (('probs', probs), ('image', image)):
        if not isinstance(value, (np.ndarray, Tensor)):
            raise ValueError(f'{name} must be a numpy array or a tensor, got '
                             f'{type(value).__name__}')
    if probs.ndim != 3 or min(probs.shape) == 0:
        raise ValueError('probs must be a non-empty (C, H, W) array, got '
                         f'shape {tuple(probs.shape)}')
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError('image must be an (H, W, 3) RGB array, got shape '
                         f'{tuple(image.shape)}')
    if tuple(image.shape[:2]) != tuple(probs.shape[1:]):
        raise ValueError(f'image size {tuple(image.shape[:2])} differs from '
                         f'the probabilities\' {tuple(probs.shape[1:])}')
    if isinstance(probs, Tensor):
        floating = probs.is_floating_point()
    else:
        floating = np.issubdtype(probs.dtype, np.floating)
    if not floating:
        raise ValueError(
            f'probs must be floating point, got dtype {probs.dtype}')
    if image.dtype != (torch.uint8 if isinstance(image, Tensor) else np.uint8):
        raise ValueError(f'image must be uint8 (0-255), got dtype '
                         f'{image.dtype}')
    finite_nonneg = (bool(torch.isfinite(probs).all() and
                          (probs >= 0).all()) if isinstance(probs, Tensor) else
                     bool(np.isfinite(probs).all() and (probs >= 0).all()))
    if not finite_nonneg:
        raise ValueError('probs must be finite and non-negative')
    if int(num_iter) != num_iter or num_iter < 0:
        raise ValueError(f'num_iter must be a non-negative integer, got '
                         f'{num_iter}')
    for name, value in params.items():
        if not math.isfinite(value) or (value <= 0 if name.endswith(
            ('sxy', 'srgb')) else value < 0):
            bound = '> 0' if name.endswith(('sxy', 'srgb')) else '>= 0'
            raise ValueError(f'{name} must be finite and {bound}, got '
                             f'{value}')


def _as_float32(value: float) -> float:
    """``value`` rounded to float32, as pydensecrf receives it."""
    return float(np.float32(value))


def _dense_crf_torch(probs: Tensor, image: Tensor, num_iter: int,
                     gaussian_sxy: float, gaussian_compat: float,
                     bilateral_sxy: float, bilateral_srgb: float,
                     bilateral_compat: float) -> Tensor:
    """Mean-field inference in PyTorch; ``probs`` ``(C, H, W)``, ``image``
    ``(H, W, 3)`` uint8 on the same device; returns float32 ``(C, H, W)``."""
    num_classes, height, width = probs.shape
    device = probs.device
    # (N, C) layout: a pixel's class scores are contiguous for the lattice
    log_p = probs.float().clamp(_PROB_CLIP,
                                1.0).log_().reshape(num_classes,
                                                    -1).t().contiguous()
    q = torch.softmax(log_p, dim=1)
    kernels = []  # (weight, lattice, 1/sqrt(K 1)) in pydensecrf's order
    if num_iter > 0 and (gaussian_compat > 0 or bilateral_compat > 0):
        # positions as in pydensecrf: x (column) first, then y (row)
        ys, xs = torch.meshgrid(torch.arange(height,
                                             dtype=torch.float32,
                                             device=device),
                                torch.arange(width,
                                             dtype=torch.float32,
                                             device=device),
                                indexing='ij')
        positions = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
        specs = []
        if gaussian_compat > 0:
            specs.append(
                (gaussian_compat, positions / _as_float32(gaussian_sxy)))
        if bilateral_compat > 0:
            colours = image.reshape(-1,
                                    3).float() / _as_float32(bilateral_srgb)
            specs.append(
                (bilateral_compat,
                 torch.cat([positions / _as_float32(bilateral_sxy), colours],
                           1)))
        for weight, features in specs:
            lattice = PermutohedralLattice(features)
            ones = features.new_ones((features.shape[0], 1))
            norm = (lattice.filter(ones).double() + 1e-20).rsqrt().float()
            kernels.append((float(weight), lattice, norm))
    for _ in range(num_iter if kernels else 0):
        logits = log_p.clone()
        for weight, lattice, norm in kernels:
            message = lattice.filter(q * norm).mul_(norm)
            logits.add_(message, alpha=weight)
        q = torch.softmax(logits, dim=1)
    return q.t().reshape(num_classes, height, width)


def _import_pydensecrf():
    """The ``pydensecrf.densecrf`` module, or an ImportError naming the
    package to install."""
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:
        raise ImportError(
            "dense_crf(backend='pydensecrf') needs the optional package "
            "'pydensecrf2' (module 'pydensecrf'): pip install pydensecrf2 "
            "(or pip install mmseg-weak[crf]); backend='torch' needs no "
            'extra package') from err
    return dcrf


def _dense_crf_pydensecrf(probs: np.ndarray, image: np.ndarray, num_iter: int,
                          gaussian_sxy: float, gaussian_compat: float,
                          bilateral_sxy: float, bilateral_srgb: float,
                          bilateral_compat: float) -> np.ndarray:
    """Mean-field inference with pydensecrf; numpy in, float32 numpy out."""
    dcrf = _import_pydensecrf()
    num_classes, height, width = probs.shape
    crf = dcrf.DenseCRF2D(width, height, num_classes)
    unary = -np.log(np.clip(probs, _PROB_CLIP, 1.0))
    crf.setUnaryEnergy(
        np.ascontiguousarray(unary.reshape(num_classes, -1), np.float32))
    if gaussian_compat > 0:
        crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    if bilateral_compat > 0:
        crf.addPairwiseBilateral(sxy=bilateral_sxy,
                                 srgb=bilateral_srgb,
                                 rgbim=np.ascontiguousarray(image, np.uint8),
                                 compat=bilateral_compat)
    q = np.asarray(crf.inference(int(num_iter)), dtype=np.float32)
    return q.reshape(num_classes, height, width)


def crf_kernels(gaussian_sxy: float = 3.0,
                gaussian_compat: float = 3.0,
                bilateral_sxy: float = 80.0,
                bilateral_srgb: float = 13.0,
                bilateral_compat: float = 10.0) -> Dict[str, float]:
    """The parameters of the two pairwise kernels, defaults filled in.

    The defaults are those of Single-Stage WSSS's and SEAM/IRN's
    ``crf_inference`` (``addPairwiseGaussian(sxy=3, compat=3)``,
    ``addPairwiseBilateral(sxy=80, srgb=13, compat=10)``); Pseudo-mask
    Matters' ``refine_cam`` uses ``gaussian_compat=10``. Their
    ``scale_factor`` (which divides both ``sxy``) is 1; pass ``sxy /
    scale_factor`` for a downscaled image. :func:`dense_crf` and
    :class:`DenseCRF` take these as keyword arguments.

    Args:
        gaussian_sxy (float): Spatial std (pixels) of the smoothness kernel.
            Defaults to 3.0.
        gaussian_compat (float): Potts weight of the smoothness kernel; 0
            disables it. Defaults to 3.0.
        bilateral_sxy (float): Spatial std (pixels) of the appearance
            kernel. Defaults to 80.0.
        bilateral_srgb (float): Colour std (0-255 units) of the appearance
            kernel. Defaults to 13.0.
        bilateral_compat (float): Potts weight of the appearance kernel; 0
            disables it. Defaults to 10.0.

    Returns:
        dict[str, float]: The five parameters by name, as floats.
    """
    return dict(gaussian_sxy=float(gaussian_sxy),
                gaussian_compat=float(gaussian_compat),
                bilateral_sxy=float(bilateral_sxy),
                bilateral_srgb=float(bilateral_srgb),
                bilateral_compat=float(bilateral_compat))


def dense_crf(probs: ArrayOrTensor,
              image: ArrayOrTensor,
              num_iter: int = 10,
              backend: str = 'torch',
              **kernels: float) -> ArrayOrTensor:
    """Refine class probabilities with a fully connected CRF.

    Krähenbühl & Koltun, NeurIPS 2011 (https://arxiv.org/abs/1210.5644);
    see the module docstring for the model and :func:`crf_kernels` for the
    kernel parameters and their defaults (``t=10`` iterations as in the
    references).

    Args:
        probs (np.ndarray | Tensor): ``(C, H, W)`` class probabilities
            (float). Scores need not sum to one (the references feed
            unnormalised background scores): the unary is ``-log(clip(p,
            1e-5, 1))``, so zero-probability classes are allowed.
        image (np.ndarray | Tensor): ``(H, W, 3)`` uint8 image. Only colour
            differences matter and all channels share ``bilateral_srgb``, so
            RGB and BGR give the same result.
        num_iter (int): Mean-field iterations; 0 returns the normalised
            clipped input. Defaults to 10.
        backend (str): ``'torch'`` (pure PyTorch, runs on the device of
            ``probs``) or ``'pydensecrf'`` (needs the ``pydensecrf2``
            package; CPU). Defaults to ``'torch'``.
        **kernels (float): :func:`crf_kernels` arguments (``gaussian_sxy``,
            ``gaussian_compat``, ``bilateral_sxy``, ``bilateral_srgb``,
            ``bilateral_compat``).

    Returns:
        np.ndarray | Tensor: ``(C, H, W)`` probabilities summing to one over
        ``C``, of the type of ``probs`` (a tensor keeps its device and
        dtype; computation is in float32 like pydensecrf's).
    """
    params = crf_kernels(**kernels)
    _check_inputs(probs, image, num_iter, params, backend)
    num_iter = int(num_iter)
    if backend == 'torch':
        probs_t = (probs.detach() if isinstance(probs, Tensor) else
                   torch.from_numpy(np.ascontiguousarray(probs)))
        image_t = (image.detach() if isinstance(image, Tensor) else
                   torch.from_numpy(np.ascontiguousarray(image)))
        with torch.no_grad():
            out = _dense_crf_torch(probs_t, image_t.to(probs_t.device),
                                   num_iter, **params)
        if isinstance(probs, Tensor):
            return out.to(probs.dtype)
        return out.numpy().astype(probs.dtype, copy=False)
    probs_np = (probs.detach().cpu().numpy()
                if isinstance(probs, Tensor) else probs)
    image_np = (image.detach().cpu().numpy()
                if isinstance(image, Tensor) else image)
    out = _dense_crf_pydensecrf(probs_np, image_np, num_iter, **params)
    if isinstance(probs, Tensor):
        return torch.from_numpy(out).to(device=probs.device, dtype=probs.dtype)
    return out.astype(probs.dtype, copy=False)


@MODELS.register_module()
class DenseCRF(nn.Module):
    """Dense CRF post-processing of a batch as a parameter-free module.

    Krähenbühl & Koltun, NeurIPS 2011 (https://arxiv.org/abs/1210.5644);
    runs :func:`dense_crf` on every image, without gradient. With the torch
    backend on CPU and more than one torch thread, images are refined in
    parallel threads, one torch thread each (``torch.set_num_threads(1)``
    is in effect during the call and restored after).

    Args:
        num_iter (int): Mean-field iterations. Defaults to 10.
        backend (str): ``'torch'`` or ``'pydensecrf'``. Defaults to
            ``'torch'``.
        **kernels (float): :func:`crf_kernels` arguments (``gaussian_sxy``
            3, ``gaussian_compat`` 3, ``bilateral_sxy`` 80, ``bilateral_srgb``
            13, ``bilateral_compat`` 10 by default).
    """

    def __init__(self,
                 num_iter: int = 10,
                 backend: str = 'torch',
                 **kernels: float) -> None:
        super().__init__()
        self.num_iter = num_iter
        self.backend = backend
        self.kernels = crf_kernels(**kernels)
        # validate once at build time on a 1-pixel input
        _check_inputs(np.ones((1, 1, 1), np.float32),
                      np.zeros((1, 1, 3), np.uint8), num_iter, self.params(),
                      backend)
        if backend == 'pydensecrf':
            _import_pydensecrf()

    def params(self) -> Dict[str, float]:
        """The kernel arguments of :func:`dense_crf` (a copy)."""
        return dict(self.kernels)

    @torch.no_grad()
    def forward(self, probs: Tensor, images: Tensor) -> Tensor:
        """Refine ``probs`` (``(B, C, H, W)``) w.r.t. ``images``
        (``(B, 3, H, W)``, uint8 or float in 0-255; floats are rounded);
        returns ``(B, C, H, W)`` of the dtype and device of ``probs``."""
        if probs.dim() != 4 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError('probs must be (B, C, H, W) and images (B, 3, '
                             f'H, W), got {tuple(probs.shape)} and '
                             f'{tuple(images.shape)}')
        if probs.shape[0] != images.shape[0] or (probs.shape[2:]
                                                 != images.shape[2:]):
            raise ValueError(f'probs {tuple(probs.shape)} and images '
                             f'{tuple(images.shape)} differ in batch or size')
        images = images.detach()
        if images.dtype != torch.uint8:
            if not images.is_floating_point():
                raise ValueError('images must be uint8 or float, got '
                                 f'{images.dtype}')
            low, high = float(images.min()), float(images.max())
            if low < 0 or high > 255:
                raise ValueError(
                    f'images must be in 0-255 (not mean/std normalised), '
                    f'got values in [{low:.3g}, {high:.3g}]')
            images = images.round().to(torch.uint8)

        def refine(index: int) -> Tensor:
            return dense_crf(probs[index],
                             images[index].permute(1, 2, 0),
                             self.num_iter,
                             backend=self.backend,
                             **self.params())

        batch = probs.shape[0]
        workers = min(torch.get_num_threads(), batch)
        if (self.backend != 'torch' or probs.device.type != 'cpu'
                or workers <= 1):
            return torch.stack([refine(i) for i in range(batch)])
        # CPU: one image per thread, each single-threaded (faster and
        # steadier than per-operation threading of these small operations)
        with _single_threaded_ops(), ThreadPoolExecutor(workers) as executor:
            return torch.stack(list(executor.map(refine, range(batch))))

    def extra_repr(self) -> str:
        k = self.kernels
        return (f"num_iter={self.num_iter}, gaussian=(sxy={k['gaussian_sxy']}"
                f", compat={k['gaussian_compat']}), bilateral=(sxy="
                f"{k['bilateral_sxy']}, srgb={k['bilateral_srgb']}, compat="
                f"{k['bilateral_compat']}), backend={self.backend!r}")
