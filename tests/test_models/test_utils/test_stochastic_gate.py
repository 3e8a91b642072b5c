"""Stochastic Gate and Global Cue Injection (Araslanov & Roth, CVPR 2020,
Eq. 9-11)."""
import pytest
import torch
from mmseg.registry import MODELS

from mmseg_weak.models.utils import GlobalCueInjection, StochasticGate

torch.set_num_threads(2)


def _features(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(2, 4, 5, 6, generator=g),
            torch.randn(2, 4, 5, 6, generator=g))


def test_test_time_is_the_convex_mix():
    deep, shallow = _features()
    gate = StochasticGate(mix_rate=0.3).eval()
    torch.testing.assert_close(gate(deep, shallow), 0.7 * deep + 0.3 * shallow)


def test_train_time_picks_one_feature_per_element():
    deep, shallow = _features()
    gate = StochasticGate(mix_rate=0.3).train()
    torch.manual_seed(0)
    out = gate(deep, shallow)
    is_deep, is_shallow = out == deep, out == shallow
    assert (is_deep | is_shallow).all()
    assert is_deep.any() and is_shallow.any()


def test_monte_carlo_train_mean_matches_test_output():
    deep, shallow = _features()
    gate = StochasticGate(mix_rate=0.3)
    torch.manual_seed(0)
    draws = 4000
    gate.train()
    mean = sum(gate(deep, shallow) for _ in range(draws)) / draws
    shallow_rate = sum(
        (gate(deep, shallow) == shallow).float().mean()
        for _ in range(200)) / 200
    gate.eval()
    expected = gate(deep, shallow)
    # std of the mean <= |deep - shallow| * sqrt(0.21 / draws)
    tol = 5 * (deep - shallow).abs() * (0.21 / draws)**0.5 + 1e-6
    assert ((mean - expected).abs() <= tol).all()
    assert shallow_rate.item() == pytest.approx(0.3, abs=0.02)


def test_reference_rescaling_keeps_the_deep_mean_at_train_time():
    """``rescale_deep=True`` reproduces the authors' code: the train-time
    mean is the deep feature, test time is still Eq. 10."""
    deep, shallow = _features()
    gate = StochasticGate(mix_rate=0.3, rescale_deep=True).train()
    torch.manual_seed(0)
    out = gate(deep, shallow)
    rescaled = (deep - 0.3 * shallow) / 0.7
    assert (torch.isclose(out, rescaled) | (out == shallow)).all()
    draws = 4000
    mean = sum(gate(deep, shallow) for _ in range(draws)) / draws
    tol = 5 * (rescaled - shallow).abs() * (0.21 / draws)**0.5 + 1e-5
    assert ((mean - deep).abs() <= tol).all()
    gate.eval()
    torch.testing.assert_close(gate(deep, shallow), 0.7 * deep + 0.3 * shallow)


def test_gate_arguments():
    with pytest.raises(ValueError):
        StochasticGate(mix_rate=1.5)
    with pytest.raises(ValueError):
        StochasticGate()(torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3, 3))
    assert isinstance(
        MODELS.build(dict(type='StochasticGate', mix_rate=0.5)),
        StochasticGate)


def test_gci_shapes_and_global_cues():
    gci = GlobalCueInjection(
        shallow_channels=6, deep_channels=10, channels=8).train()
    shallow = torch.randn(2, 6, 12, 16)
    deep = torch.randn(2, 10, 3, 4)
    out = gci(shallow, deep)
    assert out.shape == (2, 8, 12, 16)
    assert (out >= 0).all()  # conv + norm + ReLU
    scale, shift = gci.global_cues(deep)
    assert scale.shape == shift.shape == (2, 8, 1, 1)
    # global max pooling of the projected deep features
    projected = gci.deep_proj(deep)
    torch.testing.assert_close(
        torch.cat([scale, shift], 1), projected.amax((2, 3), keepdim=True))
    out.sum().backward()
    assert gci.deep_proj.conv.weight.grad is not None


def test_gci_adain_identity_when_cues_are_zero():
    """With zero cues, Eq. 11 is ReLU of the normalised shallow features."""
    gci = GlobalCueInjection(
        4, 4, 4, adain_norm_cfg=dict(type='IN')).eval()
    torch.nn.init.zeros_(gci.deep_proj.conv.weight)
    gci.deep_proj.bn.eval()
    shallow = torch.randn(1, 4, 5, 5)
    x = torch.nn.functional.instance_norm(gci.shallow_proj(shallow))
    expected = gci.out_proj(torch.relu(x))
    # BN of zeros in eval mode (running stats 0/1, affine 1/0) -> 0
    torch.testing.assert_close(gci(shallow, torch.randn(1, 4, 3, 3)), expected)
    assert MODELS.get('GlobalCueInjection') is GlobalCueInjection


def test_deterministic_gate_mixes_at_train_time_too():
    """Table 1c's deterministic baseline: r = psi at train time."""
    deep, shallow = _features()
    gate = StochasticGate(mix_rate=0.5, deterministic=True).train()
    torch.testing.assert_close(gate(deep, shallow), 0.5 * (deep + shallow))
    assert 'deterministic=True' in repr(gate)
