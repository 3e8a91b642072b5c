"""Dense CRF (Krähenbühl & Koltun, NeurIPS 2011): hand-checkable cases, an
exact O(N^2) mean-field oracle, agreement of the torch and pydensecrf
backends, types, devices and errors."""
import importlib
import math
import sys

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

from mmseg_weak.models.utils.dense_crf import (DenseCRF, PermutohedralLattice,
                                               dense_crf)

torch.set_num_threads(2)
# the package exports the function ``dense_crf``, which shadows the module
dense_crf_module = importlib.import_module(
    'mmseg_weak.models.utils.dense_crf')

try:
    import pydensecrf.densecrf  # noqa: F401
    HAS_PYDENSECRF = True
except ImportError:
    HAS_PYDENSECRF = False
needs_pydensecrf = pytest.mark.skipif(not HAS_PYDENSECRF,
                                      reason='pydensecrf2 is not installed')
BACKENDS = ['torch', pytest.param('pydensecrf', marks=needs_pydensecrf)]

#: Measured: the torch lattice reproduces pydensecrf to float32 round-off
#: (max |prob diff| <= 3e-7 from 20x24 to 375x500 pixels, 10 iterations).
BACKEND_ATOL = 1e-5


def _softmax_probs(classes, height, width, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(classes, height, width))
    probs = np.exp(logits - logits.max(0))
    return (probs / probs.sum(0)).astype(np.float32)


def _regions_image(height, width, seed=0, noise=20):
    """Three flat colour regions plus uniform noise (like a photo)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.int64)
    img[:, width // 2:] = [200, 50, 30]
    img[height // 3:, :width // 3] = [20, 180, 90]
    img += rng.integers(0, noise + 1, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def exact_dense_crf(probs,
                    image,
                    num_iter=10,
                    gaussian_sxy=3.0,
                    gaussian_compat=3.0,
                    bilateral_sxy=80.0,
                    bilateral_srgb=13.0,
                    bilateral_compat=10.0):
    """Literal mean field with exact Gaussian kernels (float64):
    ``Q <- softmax(log p + sum_k w_k D_k^-1/2 K_k D_k^-1/2 Q)`` with
    ``K_k(i, j) = exp(-|f_i - f_j|^2 / 2)`` (``j = i`` included) and
    ``D_k = diag(K_k 1)``, as in Krähenbühl's implementation."""
    classes, height, width = probs.shape
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
    pos = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    colour = image.reshape(-1, 3).astype(np.float64)

    def normalised_kernel(features):
        sq_dist = ((features[:, None] - features[None])**2).sum(-1)
        kernel = np.exp(-sq_dist / 2)
        inv_sqrt_deg = 1 / np.sqrt(kernel.sum(1))
        return inv_sqrt_deg[:, None] * kernel * inv_sqrt_deg[None]

    kernels = [
        (gaussian_compat, normalised_kernel(pos / gaussian_sxy)),
        (bilateral_compat,
         normalised_kernel(
             np.concatenate([pos / bilateral_sxy, colour / bilateral_srgb],
                            1)))
    ]
    log_p = np.log(np.clip(probs.reshape(classes, -1).T, 1e-5, 1.0))
    q = np.exp(log_p) / np.exp(log_p).sum(1, keepdims=True)
    for _ in range(num_iter):
        logits = log_p + sum(w * k @ q for w, k in kernels)
        q = np.exp(logits - logits.max(1, keepdims=True))
        q /= q.sum(1, keepdims=True)
    return q.T.reshape(classes, height, width)


# --------------------------------------------------------------------------
# hand-checkable cases


@pytest.mark.parametrize('backend', BACKENDS)
def test_zero_pairwise_weights_return_the_input(backend):
    """Without pairwise terms the mean field is softmax(-unary) = p."""
    probs = _softmax_probs(4, 6, 7, scale=1.0)
    assert probs.min() > 1e-5
    out = dense_crf(probs,
                    _regions_image(6, 7),
                    gaussian_compat=0,
                    bilateral_compat=0,
                    backend=backend)
    np.testing.assert_allclose(out, probs, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('backend', BACKENDS)
def test_zero_iterations_normalise_the_clipped_scores(backend):
    image = np.zeros((1, 3, 3), np.uint8)
    probs = np.array(
        [
            [[0.0, 2.0, 0.3]],  # clipped to 1e-5, 1.0, 0.3
            [[0.5, 0.5, 0.3]],
            [[0.5, 0.0, 0.0]]
        ],
        np.float32)
    out = dense_crf(probs, image, num_iter=0, backend=backend)
    eps = 1e-5
    clipped = [(eps, 0.5, 0.5), (1.0, 0.5, eps), (0.3, 0.3, eps)]
    expected = np.array([[c / sum(col) for c in col] for col in clipped])
    expected = expected.T.reshape(3, 1, 3)  # (C, H=1, W=3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize('backend', BACKENDS)
def test_single_pixel_follows_the_scalar_recurrence(backend):
    """One pixel: each normalised kernel is exactly 1 (k_ii / d_i), so
    Q <- softmax(log p + (w_g + w_b) Q). With p = (0.6, 0.4) and
    w = 3 + 10: the first logit gap is ln 1.5 + 13 * 0.2 = 3.00547, so
    Q_1 = sigmoid(3.00547) = 0.95283."""
    probs = np.array([0.6, 0.4], np.float32).reshape(2, 1, 1)
    image = np.array([[[10, 20, 30]]], np.uint8)
    q = np.array([0.6, 0.4])
    expected = []
    for _ in range(3):
        logits = np.log([0.6, 0.4]) + 13 * q
        q = np.exp(logits) / np.exp(logits).sum()
        expected.append(q[0])
    assert expected[0] == pytest.approx(0.95283, abs=1e-5)
    for it in range(3):
        out = dense_crf(probs, image, num_iter=it + 1, backend=backend)
        assert out[0, 0, 0] == pytest.approx(expected[it], abs=1e-5)
        assert out[:, 0, 0].sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize('backend', BACKENDS)
def test_uniform_image_smooths_a_noisy_label_map(backend):
    """Constant image: every pixel votes for its neighbours' labels; 10%
    salt pixels that weakly prefer class 1 are absorbed by class 0."""
    rng = np.random.default_rng(0)
    height, width = 16, 18
    probs = np.empty((2, height, width), np.float32)
    probs[0], probs[1] = 0.7, 0.3
    salt = rng.random((height, width)) < 0.1
    probs[0][salt], probs[1][salt] = 0.4, 0.6
    assert salt.sum() >= 10
    image = np.full((height, width, 3), 128, np.uint8)
    out = dense_crf(probs, image, backend=backend)
    assert (out.argmax(0) == 0).all()
    # but a confident (unary) majority is kept: invert the roles
    out = dense_crf(probs[::-1].copy(), image, backend=backend)
    assert (out.argmax(0) == 1).all()


@pytest.mark.parametrize('backend', BACKENDS)
def test_bilateral_term_snaps_labels_to_a_colour_edge(backend):
    """Two-colour image (red columns < 10, blue >= 10); the noisy
    probabilities put the class boundary 3 columns too far right. The
    bilateral (appearance) kernel pulls every pixel to its colour region's
    majority, so labels follow the colour edge; the spatial Gaussian kernel
    alone cannot move the boundary."""
    rng = np.random.default_rng(1)
    height, width, edge = 16, 20, 10
    image = np.zeros((height, width, 3), np.uint8)
    image[:, :edge] = [220, 30, 30]
    image[:, edge:] = [30, 30, 220]
    cols = np.arange(width)[None].repeat(height, 0)
    label = (cols >= edge + 3).astype(int)
    label[rng.random((height, width)) < 0.15] ^= 1  # noise
    probs = np.where(label[None] == np.arange(2)[:, None, None], 0.65,
                     0.35).astype(np.float32)
    out = dense_crf(probs, image, backend=backend)
    np.testing.assert_array_equal(out.argmax(0), (cols >= edge).astype(int))
    # spatial smoothing only: the wrong strip stays wrong
    smooth = dense_crf(probs, image, bilateral_compat=0, backend=backend)
    assert (smooth.argmax(0)[:, edge:edge + 3] == 0).mean() > 0.9


def test_lattice_filter_approximates_a_gaussian():
    """K v with K(i, j) ~ exp(-|f_i - f_j|^2 / 2): far apart points do not
    interact (and the normalisation D^-1/2 K D^-1/2 removes a lone point's
    share); on a pixel grid K 1 is a near-constant fraction of the exact
    Gaussian sum (measured 0.77-0.90, the lattice's blur is narrower); and
    K is symmetric up to the order of its axis blurs (< 1%)."""
    lone = PermutohedralLattice(torch.tensor([[0.0, 0.0], [50.0, 50.0]]))
    out = lone.filter(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert out[0, 1] == 0 and out[1, 0] == 0
    # a lone point keeps a share of its value that depends on where it lies
    # in its simplex (here 0.9 and 0.67)
    assert 0.5 < out[0, 0] <= 1 and 0.5 < out[1, 1] / 2 <= 1

    ys, xs = torch.meshgrid(torch.arange(20.0),
                            torch.arange(24.0),
                            indexing='ij')
    features = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1) / 3.0
    lattice = PermutohedralLattice(features)
    exact = torch.exp(-torch.cdist(features, features)**2 / 2)
    ratio = lattice.filter(torch.ones(480, 1))[:, 0] / exact.sum(1)
    assert 0.7 < ratio.min() and ratio.max() < 0.95

    gen = torch.Generator().manual_seed(0)
    lattice = PermutohedralLattice(torch.rand(60, 3, generator=gen) * 4)
    u, v = torch.rand(2, 60, 1, generator=gen)
    torch.testing.assert_close((u * lattice.filter(v)).sum(),
                               (v * lattice.filter(u)).sum(),
                               rtol=0.01,
                               atol=0)


def test_torch_backend_approximates_the_exact_dense_crf():
    """The permutohedral lattice approximates the Gaussian kernels;
    measured against the exact O(N^2) oracle on 12x16 to 40x40 inputs:
    max |prob diff| 0.007, identical labels."""
    for height, width, classes, seed in ((12, 16, 3, 0), (24, 32, 5, 1)):
        probs = _softmax_probs(classes, height, width, seed, scale=1.5)
        image = _regions_image(height, width, seed, noise=25)
        out = dense_crf(probs, image)
        ref = exact_dense_crf(probs.astype(np.float64), image)
        assert np.abs(out - ref).max() < 0.02
        assert (out.argmax(0) == ref.argmax(0)).mean() >= 0.99


# --------------------------------------------------------------------------
# backends agree


@needs_pydensecrf
@pytest.mark.parametrize(
    'case',
    [
        dict(shape=(21, 40, 50)),
        dict(shape=(4, 1, 30)),
        dict(shape=(1, 5, 6)),
        dict(shape=(3, 17, 13), num_iter=3),
        dict(shape=(5, 20, 24), zero_classes=True),
        dict(shape=(3, 20, 24), unnormalised=True),
        dict(shape=(4, 20, 24), constant_image=True),
        dict(shape=(4, 24, 20), noise_image=True),
        dict(shape=(4, 20, 24), params=dict(gaussian_compat=10.0)),  # PMM
        dict(shape=(4, 20, 24),
             params=dict(
                 gaussian_sxy=1.5, bilateral_sxy=20.0, bilateral_srgb=5.0)),
        dict(shape=(4, 20, 24), params=dict(bilateral_compat=0.0)),
        dict(shape=(4, 20, 24), params=dict(gaussian_compat=0.0)),
    ])
def test_backends_agree(case):
    classes, height, width = case['shape']
    probs = _softmax_probs(classes, height, width, seed=classes + height)
    if case.get('zero_classes'):
        probs[1:3] = 0
        probs /= probs.sum(0)
    if case.get('unnormalised'):
        probs = probs * np.linspace(0.2, 3, width, dtype=np.float32)
    image = _regions_image(height, width, seed=width)
    if case.get('constant_image'):
        image[:] = 77
    if case.get('noise_image'):
        image = np.random.default_rng(5).integers(
            0, 256, (height, width, 3)).astype(np.uint8)
    kwargs = dict(num_iter=case.get('num_iter', 10), **case.get('params', {}))
    ours = dense_crf(probs, image, backend='torch', **kwargs)
    ref = dense_crf(probs, image, backend='pydensecrf', **kwargs)
    # a uniform-noise image is ill-conditioned for float32 mean field: one
    # ulp of change in pydensecrf's own input moves its output by up to
    # 2.1e-5 (measured), so only there the tolerance is that sensitivity
    atol = 3e-5 if case.get('noise_image') else BACKEND_ATOL
    np.testing.assert_allclose(ours, ref, rtol=0, atol=atol)
    np.testing.assert_array_equal(ours.argmax(0), ref.argmax(0))


def test_packed_and_rowwise_vertex_keys_agree(monkeypatch):
    """Keys too wide for one int64 are deduplicated row-wise instead."""
    probs = _softmax_probs(3, 12, 14)
    image = _regions_image(12, 14)
    packed = dense_crf(probs, image)
    monkeypatch.setattr(dense_crf_module, '_MAX_PACKED_CODE', 1)
    rowwise = dense_crf(probs, image)
    np.testing.assert_allclose(rowwise, packed, rtol=0, atol=1e-6)


def _lattice_by_point(features):
    """Per-point, float32 construction of the permutohedral lattice
    (elevation, nearest remainder-0 point, coordinate ranks, barycentric
    weights, simplex vertex keys), as in Adams et al. 2010 / Krähenbühl's
    code, with plain Python loops: ``(keys, bary)`` lists of the ``d + 1``
    vertex keys (tuples of the first d coordinates) and weights of every
    point."""
    num, d = features.shape
    inv_std = np.float32(np.sqrt(2.0 / 3.0) * (d + 1))
    scale = np.array([1.0 / np.sqrt((i + 2) * (i + 1)) * inv_std
                      for i in range(d)], np.float32)
    down = np.float32(1.0 / (d + 1))
    all_keys, all_bary = [], []
    for f in features.astype(np.float32):
        elevated = np.zeros(d + 1, np.float32)
        total = np.float32(0)
        for j in range(d, 0, -1):
            cf = f[j - 1] * scale[j - 1]
            elevated[j] = total - np.float32(j) * cf
            total = total + cf
        elevated[0] = total
        rounded = np.round(elevated * down)  # ties to even
        rem0 = rounded * np.float32(d + 1)
        rank = np.zeros(d + 1, np.int64)
        delta = elevated - rem0
        for i in range(d + 1):
            for j in range(i + 1, d + 1):
                if delta[i] < delta[j]:
                    rank[i] += 1
                else:
                    rank[j] += 1
        rank += int(rounded.sum())
        for i in range(d + 1):
            if rank[i] < 0:
                rank[i] += d + 1
                rem0[i] += d + 1
            elif rank[i] > d:
                rank[i] -= d + 1
                rem0[i] -= d + 1
        bary = np.zeros(d + 2, np.float32)
        for i in range(d + 1):
            v = (elevated[i] - rem0[i]) * down
            bary[d - rank[i]] += v
            bary[d + 1 - rank[i]] -= v
        bary[0] += np.float32(1) + bary[d + 1]
        all_keys.append([
            tuple(
                int(rem0[c]) + (r if rank[c] <= d - r else r - (d + 1))
                for c in range(d)) for r in range(d + 1)
        ])
        all_bary.append(bary[:d + 1])
    return all_keys, all_bary


@pytest.mark.parametrize('kind', ['grid', 'colour', 'wide'])
def test_lattice_structure_matches_a_per_point_construction(
        kind, monkeypatch):
    """The vectorised lattice build (points grouped per simplex, packed
    vertex codes, splat lists expanded from the simplex groups, neighbour
    lookup by code arithmetic, by a direct table for a small code range
    (the spatial kernel) or by row deduplication for keys too wide to pack)
    gives exactly the vertices, weights, splat lists and blur neighbours of
    a per-point construction."""
    rng = np.random.default_rng(3)
    if kind == 'grid':  # the spatial kernel: a pixel grid / sxy
        ys, xs = np.mgrid[0:9, 0:11]
        features = np.stack([xs.ravel(), ys.ravel()], 1) / np.float32(1.7)
    else:  # positions and colours, several points per simplex
        features = np.concatenate([
            rng.uniform(0, 1.5, (120, 2)),
            rng.integers(0, 2, (120, 3)) * np.float32(0.9)
        ], 1)
    if kind == 'wide':
        monkeypatch.setattr(dense_crf_module, '_MAX_PACKED_CODE', 1)
    features = features.astype(np.float32)
    lattice = PermutohedralLattice(torch.from_numpy(features))
    num, d = features.shape
    keys, bary = _lattice_by_point(features)

    # slice: the same weights, and one vertex id per distinct key
    alpha = np.float32(1.0 / (1.0 + 2.0**(-d)))
    np.testing.assert_array_equal(lattice._slice_weight.numpy(),
                                  np.stack(bary) * alpha)
    key_of = {}
    for p in range(num):
        for r in range(d + 1):
            vertex = int(lattice._slice_index[p, r])
            assert key_of.setdefault(vertex, keys[p][r]) == keys[p][r]
    assert len(key_of) == lattice.num_vertices
    assert len(set(key_of.values())) == lattice.num_vertices

    # splat: every vertex gathers exactly the (point, weight) pairs using it
    ends = list(lattice._splat_start[1:].tolist()) + [num * (d + 1)]
    splat = {}
    for vertex, (start, end) in enumerate(
            zip(lattice._splat_start.tolist(), ends)):
        splat[vertex] = sorted(
            zip(lattice._splat_index[start:end].tolist(),
                lattice._splat_weight[start:end].tolist()))
    expected = {v: [] for v in range(lattice.num_vertices)}
    for p in range(num):
        for r in range(d + 1):
            expected[int(lattice._slice_index[p, r])].append(
                (p, float(bary[p][r])))
    assert splat == {v: sorted(pairs) for v, pairs in expected.items()}

    # blur: along axis j the neighbours are key -+ (1, .., 1, -d at j)
    vertex_of = {key: vertex for vertex, key in key_of.items()}
    for axis, (index, weight) in enumerate(lattice._blur):
        step = np.ones(d, np.int64)
        if axis < d:
            step[axis] = -d
        for vertex, key in key_of.items():
            assert index[vertex, 2] == vertex and weight[vertex, 2] == 1
            for col, sign in ((0, -1), (1, 1)):
                neighbour = vertex_of.get(tuple(np.array(key) + sign * step))
                if neighbour is None:
                    assert weight[vertex, col] == 0
                else:
                    assert index[vertex, col] == neighbour
                    assert weight[vertex, col] == 0.5


def test_fused_mean_field_logits_equal_the_kernel_filters():
    """One splat/blur/slice chain for both kernels, with the
    normalisations, weights and unary folded in, computes ``log p + sum_k
    w_k D_k^-1/2 K_k D_k^-1/2 q`` of the separate lattice filters."""
    gen = torch.Generator().manual_seed(0)
    num, classes = 150, 5
    positions = torch.rand(num, 2, generator=gen) * 6
    colours = torch.rand(num, 3, generator=gen) * 4
    kernels = [(3.0, PermutohedralLattice(positions)),
               (10.0, PermutohedralLattice(torch.cat([positions, colours],
                                                     1)))]
    log_p = torch.log(torch.rand(num, classes, generator=gen))
    q = torch.softmax(torch.randn(num, classes, generator=gen), 1)
    expected = log_p.clone()
    for weight, lattice in kernels:
        norm = lattice.filter(torch.ones(num, 1)).rsqrt()
        expected += weight * norm * lattice.filter(norm * q)
    logits = dense_crf_module._MeanFieldLogits(log_p, kernels)
    torch.testing.assert_close(logits(q), expected, rtol=1e-5, atol=1e-5)
    # the operator can be applied repeatedly (its table is reused)
    torch.testing.assert_close(logits(q), expected, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# types, devices, module


@pytest.mark.parametrize('backend', BACKENDS)
def test_types_are_preserved(backend):
    probs = _softmax_probs(3, 8, 9)
    image = _regions_image(8, 9)
    out = dense_crf(probs.astype(np.float64), image, backend=backend)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.shape == (3, 8, 9)
    np.testing.assert_allclose(out.sum(0), 1, atol=1e-5)
    out_t = dense_crf(torch.from_numpy(probs).double(),
                      torch.from_numpy(image),
                      backend=backend)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    np.testing.assert_allclose(out_t.numpy(), out, atol=1e-6)
    # a tensor image with numpy probabilities, and vice versa
    np.testing.assert_allclose(dense_crf(probs,
                                         torch.from_numpy(image),
                                         backend=backend),
                               out,
                               atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('backend', BACKENDS)
def test_cuda_tensors_stay_on_the_device(backend):
    probs = torch.from_numpy(_softmax_probs(5, 30, 40))
    image = torch.from_numpy(_regions_image(30, 40))
    out = dense_crf(probs.cuda(), image.cuda(), backend=backend)
    assert out.device.type == 'cuda' and out.dtype == torch.float32
    ref = dense_crf(probs, image, backend=backend)
    torch.testing.assert_close(out.cpu(), ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize('backend', BACKENDS)
def test_module_matches_the_function_per_image(backend):
    crf = MODELS.build(dict(type='DenseCRF', num_iter=5, backend=backend))
    assert isinstance(crf, DenseCRF)
    probs = torch.stack([
        torch.from_numpy(_softmax_probs(4, 10, 12, seed=s)) for s in (0, 1)
    ]).requires_grad_()
    images = torch.stack([
        torch.from_numpy(_regions_image(10, 12, seed=s)) for s in (0, 1)
    ]).permute(0, 3, 1, 2)
    out = crf(probs, images)
    assert out.shape == (2, 4, 10, 12) and not out.requires_grad
    for i in range(2):
        ref = dense_crf(probs[i].detach(),
                        images[i].permute(1, 2, 0),
                        num_iter=5,
                        backend=backend)
        torch.testing.assert_close(out[i], ref)
    # float 0-255 images are rounded to the same uint8 image
    torch.testing.assert_close(crf(probs, images.float() + 0.2), out)
    assert 'backend' in repr(crf)


@pytest.mark.usefixtures('two_torch_threads')
def test_module_is_safe_from_concurrent_threads():
    """Two fresh threads running the module at once get the result of a
    lone call and the process's torch thread count (nothing changes it)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    crf = DenseCRF(num_iter=3)
    probs = torch.stack([
        torch.from_numpy(_softmax_probs(4, 12, 14, seed=s)) for s in (0, 1)
    ])
    images = torch.stack([
        torch.from_numpy(_regions_image(12, 14, seed=s)) for s in (0, 1)
    ]).permute(0, 3, 1, 2)
    expected = crf(probs, images)
    threads = torch.get_num_threads()
    barrier = Barrier(2)

    def work(_):
        barrier.wait()  # no torch call before: the thread is fresh
        return crf(probs, images), torch.get_num_threads()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(work, range(2)))
    for out, count in results:
        assert count == threads
        assert torch.equal(out, expected)
    assert torch.get_num_threads() == threads

# --------------------------------------------------------------------------
# errors


@pytest.mark.parametrize('kwargs, match', [
    (dict(probs=np.ones((2, 4, 5), np.float32)), 'differs'),
    (dict(probs=np.ones((4, 4), np.float32)), r'\(C, H, W\)'),
    (dict(probs=np.ones((2, 4, 4), np.int64)), 'floating point'),
    (dict(probs=-np.ones((2, 4, 4), np.float32)), 'non-negative'),
    (dict(probs=np.full((2, 4, 4), np.nan, np.float32)), 'finite'),
    (dict(image=np.zeros((4, 4, 3), np.float32)), 'uint8'),
    (dict(image=np.zeros((4, 4), np.uint8)), r'\(H, W, 3\)'),
    (dict(image=np.zeros((3, 4, 4), np.uint8)), r'\(H, W, 3\)'),
    (dict(backend='cuda'), 'unknown dense CRF backend'),
    (dict(num_iter=-1), 'num_iter'),
    (dict(gaussian_sxy=0.0), 'gaussian_sxy'),
    (dict(bilateral_srgb=-1.0), 'bilateral_srgb'),
    (dict(bilateral_compat=-1.0), 'bilateral_compat'),
    (dict(probs=[[[1.0]]]), 'numpy array or a tensor'),
])
def test_bad_inputs_raise(kwargs, match):
    args = dict(probs=np.full((2, 4, 4), 0.5, np.float32),
                image=np.zeros((4, 4, 3), np.uint8))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        dense_crf(**args)


def test_module_rejects_bad_images_and_arguments():
    crf = DenseCRF()
    probs = torch.full((1, 2, 4, 4), 0.5)
    with pytest.raises(ValueError, match='normalised'):
        crf(probs, torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match='differ'):
        crf(probs, torch.zeros(1, 3, 4, 5, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        crf(probs, torch.zeros(1, 4, 4, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match='unknown dense CRF backend'):
        DenseCRF(backend='densecrf')
    with pytest.raises(ValueError, match='bilateral_sxy'):
        DenseCRF(bilateral_sxy=0)


def test_missing_pydensecrf_names_the_package(monkeypatch):
    # a None entry in sys.modules makes the import raise ImportError
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    probs = _softmax_probs(2, 3, 3)
    image = _regions_image(3, 3)
    with pytest.raises(ImportError, match='pydensecrf2'):
        dense_crf(probs, image, backend='pydensecrf')
    with pytest.raises(ImportError, match='pydensecrf2'):
        DenseCRF(backend='pydensecrf')
    # the default backend needs no extra package
    out = dense_crf(probs, image)
    assert math.isclose(float(out.sum()), 9.0, rel_tol=1e-5)
