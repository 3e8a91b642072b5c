"""PAMR (Araslanov & Roth, CVPR 2020, Eq. 7-8): properties and equality with
the literal oracle (mmseg_weak.testing.oracles, the authors' semantics)."""
import pytest
import torch
from mmseg.registry import MODELS

from mmseg_weak.models.utils.pamr import (PixelAdaptiveMaskRefinement,
                                          pamr_affinity,
                                          pamr_neighbour_offsets, pamr_refine)
from mmseg_weak.testing.oracles import oracle_affinity, oracle_pamr

torch.set_num_threads(2)
DILATIONS = (1, 2, 4, 8, 12, 24)


def _image(batch=2, height=20, width=24, seed=0):
    """Piecewise-constant image with a little noise (like a photo)."""
    g = torch.Generator().manual_seed(seed)
    img = torch.zeros(batch, 3, height, width)
    img[:, :, :, width // 2:] = 150
    img[:, 0, height // 3:, :width // 3] = 80
    return img + 5 * torch.rand(img.shape, generator=g)


def _soft_mask(batch=2, classes=4, height=20, width=24, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(
        3 * torch.randn(batch, classes, height, width, generator=g), 1)


def test_neighbour_offsets():
    offsets = pamr_neighbour_offsets((1, 3))
    assert len(offsets) == 16 and (0, 0) not in offsets
    assert offsets[:3] == [(-1, -1), (-1, 0), (-1, 1)]
    assert (3, 3) in offsets and (-3, 0) in offsets


def test_affinity_rows_are_convex_weights():
    aff = pamr_affinity(_image(), DILATIONS)
    assert aff.shape == (2, 48, 20, 24)
    assert (aff >= 0).all()
    torch.testing.assert_close(aff.sum(1), torch.ones(2, 20, 24))


def test_affinity_prefers_similar_neighbours():
    img = torch.zeros(1, 3, 9, 9)
    img[..., 5:] = 100  # vertical edge between columns 4 and 5
    aff = pamr_affinity(img, (1, ))
    offsets = pamr_neighbour_offsets((1, ))
    left, right = offsets.index((0, -1)), offsets.index((0, 1))
    # pixel (4, 4): its left neighbour is alike, its right one is not
    assert aff[0, left, 4, 4] > 10 * aff[0, right, 4, 4]


def test_constant_mask_is_preserved():
    mask = torch.tensor([0.2, 0.5, 0.3]).view(1, 3, 1, 1).expand(2, 3, 20, 24)
    out = pamr_refine(_image(), mask.contiguous())
    torch.testing.assert_close(out, mask.expand_as(out))


def test_constant_image_only_averages():
    """On a constant image every neighbour weighs 1/8 (one dilation): one
    iteration is the mean of the 8 replicate-clamped neighbours."""
    img = torch.full((1, 3, 3, 4), 7.0)
    mask = torch.arange(12.0).view(1, 1, 3, 4)
    aff = pamr_affinity(img, (1, ))
    torch.testing.assert_close(aff, torch.full_like(aff, 1 / 8))
    out = pamr_refine(img, mask, num_iter=1, dilations=(1, ))
    expected = torch.zeros(3, 4)
    for i in range(3):
        for j in range(4):
            vals = [
                mask[0, 0, min(max(i + dy, 0), 2), min(max(j + dx, 0), 3)]
                for dy, dx in pamr_neighbour_offsets((1, ))
            ]
            expected[i, j] = sum(vals) / 8
    torch.testing.assert_close(out[0, 0], expected)
    # e.g. the corner (0, 0): neighbours 0,0,1,0,1,4,4,5 -> 15 / 8
    assert out[0, 0, 0, 0].item() == pytest.approx(15 / 8)


def test_blurred_mask_moves_to_the_image_edge():
    height, width, edge = 24, 32, 16
    img = torch.zeros(1, 3, height, width)
    img[..., edge:] = 200
    img += torch.rand(img.shape, generator=torch.Generator().manual_seed(0))
    x = torch.arange(width).float()
    fg = ((x - 8) / 16).clamp(0, 1).expand(height, width)  # ramp 8..24
    mask = torch.stack([1 - fg, fg])[None]
    target = (x >= edge).float().expand(height, width)
    out = pamr_refine(img, mask)
    before = (mask[0, 1] - target).abs().mean()
    after = (out[0, 1] - target).abs().mean()
    assert after < 0.6 * before
    # the hard labels now follow the edge
    assert (out[0].argmax(0) == target.long()).float().mean() > 0.97


@pytest.mark.parametrize('shape,dilations,num_iter', [
    ((2, 4, 20, 24), DILATIONS, 10),
    ((5, 3, 13, 9), DILATIONS, 3),  # smaller than the largest dilation
    ((1, 21, 33, 33), (1, 2, 4, 8), 10),
    ((3, 2, 16, 16), (1, 3, 6, 9, 12, 16), 1),
])
def test_equals_oracle(shape, dilations, num_iter):
    batch, classes, height, width = shape
    img = _image(batch, height, width, seed=height)
    mask = _soft_mask(batch, classes, height, width, seed=width)
    torch.testing.assert_close(
        pamr_affinity(img, dilations),
        oracle_affinity(img, dilations),
        atol=1e-5,
        rtol=0)
    out = pamr_refine(img, mask, num_iter, dilations)
    ref = oracle_pamr(img, mask, num_iter, dilations)
    assert (out - ref).abs().max() <= 1e-5


def test_equals_oracle_on_noise_and_resized_mask():
    g = torch.Generator().manual_seed(5)
    img = 255 * torch.rand(3, 3, 30, 26, generator=g)
    mask = torch.softmax(torch.randn(3, 5, 15, 13, generator=g), 1)
    out = pamr_refine(img, mask)
    assert out.shape == (3, 5, 30, 26)
    assert (out - oracle_pamr(img, mask)).abs().max() <= 1e-5


def test_many_chunks_in_threads_equal_one_chunk(monkeypatch):
    import mmseg_weak.models.utils.pamr as pamr_module
    img, mask = _image(6, 20, 24), _soft_mask(6, 4, 20, 24)
    whole = pamr_refine(img, mask)
    monkeypatch.setattr(pamr_module, '_CPU_CHUNK_BYTES', 1)
    threads = torch.get_num_threads()
    chunked = pamr_refine(img, mask)
    assert torch.get_num_threads() == threads  # restored
    assert torch.equal(whole, chunked)


def test_module_is_registered_and_gradient_free():
    pamr = MODELS.build(
        dict(type='PixelAdaptiveMaskRefinement', num_iter=2,
             dilations=(1, 2)))
    assert isinstance(pamr, PixelAdaptiveMaskRefinement)
    assert not list(pamr.parameters())
    mask = _soft_mask(1, 3, 20, 24).requires_grad_()
    out = pamr(_image(1), mask)
    assert not out.requires_grad
    torch.testing.assert_close(out.sum(1), torch.ones(1, 20, 24))


def test_bad_arguments():
    with pytest.raises(ValueError):
        PixelAdaptiveMaskRefinement(dilations=(0, 1))
    with pytest.raises(ValueError):
        pamr_refine(_image(2), _soft_mask(3))


@pytest.mark.usefixtures('two_torch_threads')
def test_concurrent_calls_from_threads_are_safe():
    """Two fresh Python threads refining at once (e.g. a thread pool of
    pseudo-label workers) get the result of a lone call, and end with the
    process's torch thread count, which is itself unchanged (a call that
    set the count temporarily would leak its value into a thread that
    starts meanwhile)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    img, mask = _image(3, 20, 24), _soft_mask(3, 4, 20, 24)
    expected = pamr_refine(img, mask)
    threads = torch.get_num_threads()
    barrier = Barrier(2)

    def work(_):
        barrier.wait()  # no torch call before: the thread is fresh
        outs = [pamr_refine(img, mask) for _ in range(4)]
        return outs, torch.get_num_threads()

    for _ in range(3):
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(work, range(2)))
        for outs, count in results:
            assert count == threads
            for out in outs:
                assert torch.equal(out, expected)
        assert torch.get_num_threads() == threads
