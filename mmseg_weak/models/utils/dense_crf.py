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
  and image, vectorised: the points are grouped by enclosing simplex (one
  sort of packed integer codes), the ``d + 1`` vertex keys are generated per
  simplex as packed codes and deduplicated with a second sort, the splat
  lists (points of every vertex) are expanded from the two groupings, and
  blur neighbours are found by code arithmetic (a direct table for the
  spatial kernel's small code range, ``searchsorted`` otherwise). A
  mean-field iteration then runs both kernels at once as ``d_max + 3``
  weighted gathers (``F.embedding_bag``) of ``(rows, C)`` float32 rows:
  one splat onto the concatenated vertices, the axis blurs, and one slice
  whose bags also hold the unary and fold in the normalisations and kernel
  weights, followed by the softmax. The lattice embedding, rounding (ties
  to even, as in the SSE build), blur order and arithmetic (``v + 0.5 (n1 +
  n2)``) and scaling follow Krähenbühl's code, so the output matches
  pydensecrf to float32 round-off (max |prob diff| ~1e-6 on 240x320 and
  375x500 images). Small noisy inputs can be ill-conditioned: pydensecrf's
  own output then moves by ~1e-5 when its input changes by one float32
  ulp, and so does the agreement of the two backends.
  The code is device-agnostic (CPU or GPU tensors) and never changes torch's
  thread settings.
* ``'pydensecrf'``: the ``pydensecrf2`` package (module ``pydensecrf``),
  imported lazily; an optional dependency (``pip install
  mmseg-weak[crf]``).
"""
import contextlib
import math
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

from .serial_threads import map_serial_threads, serial_torch_ops

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
        # Work in the (d + 1, N) layout: each coordinate is a contiguous row.
        # Elevation onto the hyperplane sum(x) = 0 of R^(d+1), with the
        # diagonal scaling of the lattice (float32 as in the reference).
        inv_std = float(np.float32(math.sqrt(2.0 / 3.0) * (d + 1)))
        scale = torch.tensor(
            [1.0 / math.sqrt((i + 2) * (i + 1)) * inv_std for i in range(d)],
            dtype=torch.float32,
            device=device)
        scaled = features.t() * scale[:, None]
        elevated = features.new_empty((d + 1, n))
        suffix = features.new_zeros(n)
        for j in range(d, 0, -1):
            elevated[j] = suffix - j * scaled[j - 1]
            suffix = suffix + scaled[j - 1]
        elevated[0] = suffix

        # Nearest remainder-0 lattice point (coordinates multiple of d + 1),
        # kept as exact small integers in float32.
        inv_dp1 = float(np.float32(1.0 / (d + 1)))
        rounded = torch.round(elevated * inv_dp1)
        rem0 = rounded * (d + 1)
        plane_offset = rounded.sum(0).long()
        # Rank of every coordinate of the residual in decreasing order (ties
        # broken by index): one comparison per pair of coordinates.
        delta = elevated - rem0
        rank8 = torch.zeros((d + 1, n), dtype=torch.uint8, device=device)
        for i in range(d + 1):
            for j in range(i + 1, d + 1):
                less = torch.lt(delta[i], delta[j]).view(torch.uint8)
                rank8[i] += less
                rank8[j] += 1 - less
        # bring the point back onto the plane
        rank = rank8.long() + plane_offset
        wrap = (rank < 0).long() - (rank > d).long()
        rank += (d + 1) * wrap
        rem0 += (d + 1) * wrap
        # integer coordinates of the remainder-0 point divided by d + 1
        base = rounded.long() + wrap

        # Barycentric coordinates of the point in its simplex (scattered
        # along contiguous rows of the (N, d + 2) layout).
        residual = ((elevated - rem0) * inv_dp1).t()
        rank_t = rank.t()
        bary = features.new_zeros((n, d + 2))
        bary.scatter_add_(1, d - rank_t, residual)
        bary.scatter_add_(1, d + 1 - rank_t, -residual)
        bary[:, 0] += 1 + bary[:, d + 1]
        bary = bary[:, :d + 1].contiguous()

        # Points that share a simplex (the same remainder-0 point and rank
        # order) share its d + 1 vertices: group the points by simplex, so
        # that vertex keys are generated and deduplicated per simplex.
        digits = torch.cat([base[:d], rank[:d]])
        simplices = _Grouping(_row_codes(digits))
        first = simplices.order.index_select(0, simplices.starts)
        digits = torch.stack([row.index_select(0, first) for row in digits])
        vertex_codes, self._key_info = _simplex_vertex_codes(
            digits[:d], digits[d:])
        vertices = _Grouping(vertex_codes.view(-1))
        self.num_vertices = vertices.size
        simplex_vertices = vertices.inverse.view(simplices.size, d + 1)

        # Slice: every point gathers its d + 1 vertices (a bag of d + 1).
        alpha = 1.0 / (1.0 + 2.0**(-d))
        self._slice_index = simplex_vertices.index_select(0, simplices.inverse)
        self._slice_weight = bary * alpha
        # Splat (the transpose): every vertex gathers the points using it.
        # Its (simplex, vertex slot) entries are contiguous in
        # ``vertices.order``; each expands to the points of that simplex,
        # which are contiguous in ``simplices.order``.
        entry_simplex = torch.div(vertices.order, d + 1, rounding_mode='floor')
        counts = simplices.counts.index_select(0, entry_simplex)
        begins = counts.cumsum(0).sub_(counts)
        entry = torch.repeat_interleave(counts, output_size=n * (d + 1))
        source = simplices.starts.index_select(0, entry_simplex).sub_(begins)
        source = source.index_select(0, entry).add_(
            torch.arange(n * (d + 1), device=device))
        self._splat_index = simplices.order.index_select(0, source)
        self._splat_start = begins.index_select(0, vertices.starts)
        # the weight of point p at slot r is bary[p, r], entry = s (d+1) + r
        entry_slot = vertices.order - (d + 1) * entry_simplex
        self._splat_weight = bary.reshape(-1).index_select(
            0,
            entry_slot.index_select(0, entry).add_(self._splat_index,
                                                   alpha=d + 1))

        # Blur along each of the d + 1 lattice axes: half of the two
        # neighbours plus the vertex, in this order so that the float32
        # result is the reference's ``v + 0.5 * (n1 + n2)`` (a missing
        # neighbour points at the vertex itself with weight 0).
        steps = torch.ones((d + 1, d), dtype=torch.long, device=device)
        steps[torch.arange(d), torch.arange(d)] = -d
        found = _find_vertices(vertices, self._key_info,
                               torch.cat([-steps, steps]))
        own = torch.arange(vertices.size, device=device)
        self._blur = []
        for axis in range(d + 1):
            index, weight = [], []
            for neighbour in (found[axis], found[d + 1 + axis]):
                index.append(torch.where(neighbour >= 0, neighbour, own))
                weight.append((neighbour >= 0).float() * 0.5)
            index.append(own)
            weight.append(torch.ones(vertices.size, device=device))
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


class _Grouping:
    """The distinct values of ``K`` int64 codes, in increasing order.

    Args:
        codes (Tensor): ``(K, )`` int64 codes.

    Attributes:
        size (int): Number ``M`` of distinct codes.
        codes (Tensor): ``(M, )`` the distinct codes, sorted.
        inverse (Tensor): ``(K, )`` group of every input.
        order (Tensor): ``(K, )`` inputs grouped (stable within a group).
        starts (Tensor): ``(M, )`` start of every group in ``order``.
        counts (Tensor): ``(M, )`` size of every group.
    """

    def __init__(self, codes: Tensor) -> None:
        # sorting int32 is several times faster than int64 on CPU
        if int(codes.max()) < 2**31:
            codes = codes.int()
        sorted_codes, self.order = codes.sort(stable=True)
        is_first = torch.ones_like(sorted_codes, dtype=torch.bool)
        is_first[1:] = sorted_codes[1:] != sorted_codes[:-1]
        self.starts = is_first.nonzero()[:, 0]
        self.size = self.starts.numel()
        self.counts = torch.diff(self.starts,
                                 append=self.starts.new_full((1, ),
                                                             codes.numel()))
        self.codes = sorted_codes.index_select(0, self.starts).long()
        self.inverse = torch.empty_like(self.order).scatter_(
            0, self.order,
            is_first.cumsum(0).sub_(1))


def _mixed_radix(spans: List[int]) -> Optional[List[int]]:
    """Strides of a mixed-radix code with the first digit most significant,
    or None when the codes would not fit :data:`_MAX_PACKED_CODE`."""
    strides = [1]
    for span in reversed(spans[1:]):
        strides.insert(0, strides[0] * span)
    if strides[0] * spans[0] >= _MAX_PACKED_CODE:
        return None
    return strides


def _row_codes(digits: Tensor) -> Tensor:
    """Order-preserving int64 codes of the columns of a ``(m, K)`` long
    tensor (lexicographic order, first row most significant): a mixed-radix
    packing when its range allows, otherwise the dense ids of the distinct
    columns (slower, same order)."""
    low = digits.min(1).values
    spans = (digits.max(1).values - low + 1).tolist()
    strides = _mixed_radix(spans)
    if strides is None:
        return torch.unique(digits.t(), dim=0, return_inverse=True)[1]
    codes = (digits[0] - low[0]) * strides[0]
    for row, lo, stride in zip(digits[1:], low[1:].tolist(), strides[1:]):
        codes += (row - lo) * stride
    return codes


def _simplex_vertex_codes(base: Tensor, rank: Tensor) -> Tuple[Tensor, tuple]:
    """Codes of the ``d + 1`` vertices of ``S`` lattice simplices.

    Vertex ``r`` of the simplex with remainder-0 point ``(d + 1) * base`` and
    coordinate ranks ``rank`` has the key (first ``d`` coordinates) ``key_c =
    (d + 1) base_c + r - (d + 1) [rank_c > d - r]``, within ``d`` of the
    remainder-0 point.

    Args:
        base (Tensor): ``(d, S)`` long, remainder-0 points / (d + 1).
        rank (Tensor): ``(d, S)`` long, ranks of the first d coordinates.

    Returns:
        tuple[Tensor, tuple]: ``(S, d + 1)`` int64 codes, in the
        lexicographic order of the keys, and what :func:`_find_vertices`
        needs: ``(strides, code range)`` of the packed codes, or for wide
        lattices (codes that are dense ids of the keys) ``(None, keys)`` with
        the ``(S * (d + 1), d)`` keys.
    """
    d, num = base.shape
    dp1 = d + 1
    low = base.min(1).values
    # every key digit lies within d of its remainder-0 point, and every
    # neighbour within d of the vertex: with this guard band the code of a
    # neighbour is the code of the vertex plus that of the step
    spans = ((base.max(1).values - low) * dp1 + 4 * d + 1).tolist()
    strides = _mixed_radix(spans)
    slots = torch.arange(dp1, device=base.device)
    if strides is None:
        keys = (dp1 * base.t()[:, None, :] + slots[None, :, None] - dp1 *
                (rank.t()[:, None, :] > d - slots[None, :, None]).long())
        keys = keys.reshape(-1, d)
        codes = torch.unique(keys, dim=0, return_inverse=True)[1]
        return codes.view(num, dp1), (None, keys)
    # code = sum_c (key_c - low_c) stride_c with low_c = (d + 1) min base_c
    # - 2d, split into the remainder-0 point, the slot r and the digits with
    # rank_c > d - r (the stride of digit c placed at position rank_c, then
    # summed from the top rank down).
    origin = (base[0] - low[0]) * (dp1 * strides[0]) + 2 * d * strides[0]
    for row, lo, stride in zip(base[1:], low[1:].tolist(), strides[1:]):
        origin += (row - lo) * (dp1 * stride) + 2 * d * stride
    stride_t = torch.tensor(strides, device=base.device)
    by_rank = base.new_zeros((num, dp1)).scatter_(1, rank.t(),
                                                  stride_t.expand(num, d))
    high = by_rank.flip(1).cumsum(1)
    codes = origin[:, None] + slots * sum(strides)
    codes[:, 1:] -= dp1 * high[:, :d]
    return codes, (stride_t, strides[0] * spans[0])


def _find_vertices(vertices: _Grouping, key_info: tuple,
                   steps: Tensor) -> Tensor:
    """``(Q, M)``: the vertex at every vertex's key plus each of the ``Q``
    ``(Q, d)`` ``steps``, -1 where there is none (``key_info`` from
    :func:`_simplex_vertex_codes`)."""
    num_steps = steps.shape[0]
    strides, extra = key_info
    if strides is not None:  # packed: codes are linear in the keys
        queries = (vertices.codes + (steps * strides).sum(1)[:, None]).view(-1)
        if extra <= 4 * queries.numel():
            # small code range (e.g. the spatial kernel): a direct table
            table = torch.full((extra, ),
                               -1,
                               dtype=torch.int32,
                               device=queries.device)
            table[vertices.codes] = torch.arange(vertices.size,
                                                 dtype=torch.int32,
                                                 device=queries.device)
            return table.index_select(0, queries).long().view(num_steps, -1)
        pos = torch.searchsorted(vertices.codes, queries)
        pos.clamp_max_(vertices.size - 1)
        found = vertices.codes.index_select(0, pos) == queries
        return torch.where(found, pos,
                           torch.full_like(pos, -1)).view(num_steps, -1)
    # dense ids: deduplicate the keys and queries together
    keys = extra[vertices.order[vertices.starts]]
    queries = (keys[None] + steps[:, None, :]).view(-1, keys.shape[1])
    inverse = torch.unique(torch.cat([keys, queries]),
                           dim=0,
                           return_inverse=True)[1]
    table = inverse.new_full((int(inverse.max()) + 1, ), -1)
    table[inverse[:vertices.size]] = torch.arange(vertices.size,
                                                  device=keys.device)
    return table[inverse[vertices.size:]].view(num_steps, -1)


class _MeanFieldLogits:
    """The mean-field logits ``log p + sum_k w_k D_k^-1/2 K_k D_k^-1/2 Q``
    of several lattice kernels ``K_k`` (``D_k = diag(K_k 1)``), fused.

    All kernels share one splat and one slice (``F.embedding_bag`` over the
    concatenated vertices of their lattices) and ``max_k (d_k + 1)`` blur
    passes (a lattice with fewer axes copies its vertices through the extra
    passes); the normalisations and weights are folded into the splat and
    slice weights, and the unary ``log p`` is a row of the sliced table
    (the first entry of every pixel's bag). Per mean-field iteration that is
    ``max_k d_k + 3`` weighted gathers of ``(rows, C)`` float32 rows, a copy
    of the vertex values and no other pass over the ``(N, C)`` values.

    Args:
        log_p (Tensor): ``(N, C)`` float32 unary logits.
        kernels (list[tuple[float, PermutohedralLattice]]): Weights and
            lattices (of the same ``N`` points) of the kernels.
    """

    def __init__(self, log_p: Tensor,
                 kernels: List[Tuple[float, 'PermutohedralLattice']]) -> None:
        device = log_p.device
        num_points = log_p.shape[0]
        splat_index, splat_start, splat_weight = [], [], []
        slice_index, slice_weight = [], []
        num_axes = max(lattice.dim + 1 for _, lattice in kernels)
        blur_index = [[] for _ in range(num_axes)]
        blur_start = [[] for _ in range(num_axes)]
        blur_weight = [[] for _ in range(num_axes)]
        vertex_offset, splat_offset = 0, 0
        blur_offset = [0] * num_axes
        ones = torch.ones((num_points, 1), device=device)
        for weight, lattice in kernels:
            norm = (lattice.filter(ones)[:, 0].double() +
                    1e-20).rsqrt().float()
            splat_index.append(lattice._splat_index)
            splat_start.append(lattice._splat_start + splat_offset)
            splat_weight.append(lattice._splat_weight *
                                norm.index_select(0, lattice._splat_index))
            splat_offset += lattice._splat_index.numel()
            slice_index.append(lattice._slice_index + vertex_offset)
            slice_weight.append(lattice._slice_weight *
                                (weight * norm)[:, None])
            own = torch.arange(lattice.num_vertices, device=device)
            for axis in range(num_axes):
                if axis < len(lattice._blur):
                    index, blur_w = lattice._blur[axis]
                    bag = index.shape[1]
                    index, blur_w = index.reshape(-1), blur_w.reshape(-1)
                else:  # identity: a bag of one
                    index, bag = own, 1
                    blur_w = torch.ones(own.shape, device=device)
                blur_index[axis].append(index + vertex_offset)
                blur_weight[axis].append(blur_w)
                blur_start[axis].append(blur_offset[axis] + bag * own)
                blur_offset[axis] += index.numel()
            vertex_offset += lattice.num_vertices
        # int32 indices (half the memory traffic) where they fit
        index_dtype = (torch.int32 if splat_offset < 2**31
                       and vertex_offset + num_points < 2**31 else torch.long)
        self._splat = (torch.cat(splat_index).to(index_dtype),
                       torch.cat(splat_start).to(index_dtype),
                       torch.cat(splat_weight))
        self._blur = [(torch.cat(i).to(index_dtype),
                       torch.cat(s).to(index_dtype), torch.cat(w))
                      for i, s, w in zip(blur_index, blur_start, blur_weight)]
        # sliced table: the vertex values, then the unary logits
        self._num_vertices = vertex_offset
        self._table = log_p.new_empty(
            (vertex_offset + num_points, log_p.shape[1]))
        self._table[vertex_offset:] = log_p
        unary = torch.arange(vertex_offset,
                             vertex_offset + num_points,
                             device=device)
        self._slice = (torch.cat([unary[:, None]] + slice_index,
                                 1).to(index_dtype),
                       torch.cat([ones] + slice_weight, 1))

    def __call__(self, q: Tensor) -> Tensor:
        """Logits for ``(N, C)`` float32 ``q``; returns a new ``(N, C)``
        tensor."""
        index, start, weight = self._splat
        vertices = F.embedding_bag(index,
                                   q,
                                   start,
                                   mode='sum',
                                   per_sample_weights=weight)
        for index, start, weight in self._blur:
            vertices = F.embedding_bag(index,
                                       vertices,
                                       start,
                                       mode='sum',
                                       per_sample_weights=weight)
        self._table[:self._num_vertices] = vertices
        index, weight = self._slice
        return F.embedding_bag(index,
                               self._table,
                               mode='sum',
                               per_sample_weights=weight)


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
    # one pass: NaN fails both comparisons, +-inf one of them
    if isinstance(probs, Tensor):
        low, high = (float(v) for v in torch.aminmax(probs.detach()))
    else:
        low, high = float(probs.min()), float(probs.max())
    if not (low >= 0 and high < math.inf):
        raise ValueError('probs must be finite and non-negative')
    if int(num_iter) != num_iter or num_iter < 0:
        raise ValueError(f'num_iter must be a non-negative integer, got '
                         f'{num_iter}')
    for name, value in params.items():
        if not math.isfinite(value) or (
                value <= 0 if name.endswith(('sxy', 'srgb')) else value < 0):
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
        logits = _MeanFieldLogits(
            log_p, [(float(weight), PermutohedralLattice(features))
                    for weight, features in specs])
        for _ in range(num_iter):
            q = torch.softmax(logits(q), dim=1)
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
            ``probs``; on CPU with serial operations in the calling thread,
            whatever ``torch.get_num_threads()``, see the module
            :class:`DenseCRF` for parallel batches) or ``'pydensecrf'``
            (needs the ``pydensecrf2`` package; CPU). Defaults to
            ``'torch'``.
        **kernels (float): :func:`crf_kernels` arguments (``gaussian_sxy``,
            ``gaussian_compat``, ``bilateral_sxy``, ``bilateral_srgb``,
            ``bilateral_compat``).

    Returns:
        np.ndarray | Tensor: ``(C, H, W)`` probabilities summing to one over
        ``C``, of the type of ``probs`` (a tensor keeps its device and
        dtype; computation is in float32 like pydensecrf's).
    """
    params = crf_kernels(**kernels)
    # One image runs serially on CPU: its many small operations gain little
    # from intra-op threads and suffer badly from them on a busy CPU (the
    # DenseCRF module runs a batch's images in parallel threads instead).
    on_cpu = not (isinstance(probs, Tensor) and probs.device.type != 'cpu')
    with (serial_torch_ops() if on_cpu else contextlib.nullcontext()):
        _check_inputs(probs, image, num_iter, params, backend)
        return _run_dense_crf(probs, image, int(num_iter), params, backend)


def _run_dense_crf(probs: ArrayOrTensor, image: ArrayOrTensor, num_iter: int,
                   params: dict, backend: str) -> ArrayOrTensor:
    """:func:`dense_crf` after the argument checks."""
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
    backend on CPU and several torch threads, the images run in parallel
    worker threads, each with serial torch operations (see
    :func:`~mmseg_weak.models.utils.serial_threads.map_serial_threads`); no
    thread setting of the caller or of the process is changed, so the module
    can be called from several threads at once.

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

        indices = range(probs.shape[0])
        if self.backend != 'torch':  # pydensecrf holds the GIL
            return torch.stack([refine(i) for i in indices])
        return torch.stack(map_serial_threads(refine, indices, probs.device))

    def extra_repr(self) -> str:
        k = self.kernels
        return (f"num_iter={self.num_iter}, gaussian=(sxy={k['gaussian_sxy']}"
                f", compat={k['gaussian_compat']}), bilateral=(sxy="
                f"{k['bilateral_sxy']}, srgb={k['bilateral_srgb']}, compat="
                f"{k['bilateral_compat']}), backend={self.backend!r}")
