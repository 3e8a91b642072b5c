"""Self-correction heads (Ibrahim et al., CVPR 2020) against Eq. 2-6."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_weak.models.decode_heads import (ConvSelfCorrectionHead,
                                            LinearSelfCorrectionHead,
                                            NoSelfCorrectionHead,
                                            linear_self_correction,
                                            soft_cross_entropy)

C, H, W = 3, 6, 5
PRIMARY = dict(type='FCNHead', in_channels=4, channels=4, num_convs=1,
               concat_input=False, num_classes=C, in_index=0,
               dropout_ratio=0.0)


def _samples(supervisions, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for sup in supervisions:
        s = SegDataSample(metainfo=dict(supervision=sup, img_shape=(H, W),
                                        img_path=f'{sup}.jpg'))
        labels = torch.randint(0, C, (1, H, W), generator=g)
        if sup != 'full':
            labels[:] = 255
        s.gt_sem_seg = PixelData(data=labels)
        out.append(s)
    return out


def test_linear_q_closed_form_and_limits():
    torch.manual_seed(0)
    l, la = torch.randn(2, C, H, W), torch.randn(2, C, H, W)
    for alpha in (0.5, 2.0, 30.0):
        # Eq. 4 in probability space (float64: pa**30 underflows float32)
        p, pa = F.softmax(l.double(), 1), F.softmax(la.double(), 1)
        q = (p * pa**alpha)**(1 / (alpha + 1))
        q = q / q.sum(1, keepdim=True)
        torch.testing.assert_close(linear_self_correction(l, la, alpha),
                                   q.float())
    torch.testing.assert_close(linear_self_correction(l, la, 0.0),
                               F.softmax(l, 1))
    torch.testing.assert_close(linear_self_correction(l, la, 1e6),
                               F.softmax(la, 1), atol=1e-4, rtol=0)


@pytest.mark.parametrize('head_cls', [NoSelfCorrectionHead,
                                      LinearSelfCorrectionHead])
def test_weak_loss_is_soft_ce_and_q_gets_no_gradient(head_cls):
    torch.manual_seed(1)
    head = head_cls(primary=PRIMARY)
    samples = _samples(['full', 'box', 'box'])
    samples[2].set_metainfo(dict(img_shape=(4, 3)))  # padded image
    logits = torch.randn(3, C, H, W, requires_grad=True)
    anc = torch.randn(3, C, H, W, requires_grad=True)
    losses = head.loss_by_feat(logits, samples, anc)
    if head_cls is NoSelfCorrectionHead:
        q = F.softmax(anc[1:], 1)
    else:
        q = linear_self_correction(logits[1:], anc[1:], 30.0)
    valid = torch.zeros(2, H, W, dtype=torch.bool)
    valid[0] = True
    valid[1, :4, :3] = True
    ce = -(q * F.log_softmax(logits[1:], 1)).sum(1)
    torch.testing.assert_close(losses['loss_weak'], ce[valid].mean())
    losses['loss_weak'].backward()
    assert anc.grad is None  # nothing flows into the ancillary logits
    # the gradient is that of a CE with q held constant: (p - q) / N
    expected = (F.softmax(logits[1:], 1) - q) * valid[:, None] / valid.sum()
    torch.testing.assert_close(logits.grad[1:], expected.detach())
    assert logits.grad[0].abs().sum() == 0  # the full sample: not this term
    # the fully labeled image is trained by the primary head's own loss
    ref = head.primary.loss_by_feat(logits[:1], samples[:1])
    torch.testing.assert_close(losses['loss_ce'], ref['loss_ce'])


def test_missing_ancillary_and_unknown_supervision():
    head = NoSelfCorrectionHead(primary=PRIMARY)
    logits = torch.randn(2, C, H, W)
    with pytest.raises(ValueError, match='need ancillary logits'):
        head.loss_by_feat(logits, _samples(['full', 'box']), None)
    with pytest.raises(ValueError, match="got 'image_label'"):
        head.loss_by_feat(logits, _samples(['full', 'image_label']), logits)


def test_conv_self_correction_terms_of_eq6():
    torch.manual_seed(2)
    head = ConvSelfCorrectionHead(primary=PRIMARY, correction_channels=8)
    assert head.correction[0].in_channels == 2 * C
    assert head.correction[2].out_channels == C
    samples = _samples(['full', 'box', 'full', 'box'])
    logits = torch.randn(4, C, H, W, requires_grad=True)
    anc = torch.randn(4, C, H, W)
    losses = head.loss_by_feat(logits, samples, anc)
    assert set(losses) == {'loss_ce', 'acc_seg', 'loss_weak',
                           'loss_correction'}
    corr = head.correction(torch.cat([logits, anc], 1))
    full, weak = [0, 2], [1, 3]
    q = F.softmax(corr[weak], 1)
    ce_w = -(q * F.log_softmax(logits[weak], 1)).sum(1).mean()
    torch.testing.assert_close(losses['loss_weak'], ce_w)
    gt = torch.cat([samples[i].gt_sem_seg.data for i in full])
    torch.testing.assert_close(losses['loss_correction'],
                               F.cross_entropy(corr[full], gt))
    torch.testing.assert_close(
        losses['loss_ce'],
        head.primary.loss_by_feat(logits[full],
                                  [samples[i] for i in full])['loss_ce'])
    # gradient routing: the weak term does not train f ...
    losses['loss_weak'].backward(retain_graph=True)
    assert all(p.grad is None for p in head.correction.parameters())
    # ... the correction term trains f, not the primary logits
    logits.grad = None
    losses['loss_correction'].backward()
    assert head.correction[0].weight.grad.abs().sum() > 0
    assert logits.grad is None or logits.grad.abs().sum() == 0


def test_soft_cross_entropy_with_one_hot_is_ce():
    logits = torch.randn(2, C, H, W)
    labels = torch.randint(0, C, (2, H, W))
    onehot = F.one_hot(labels, C).permute(0, 3, 1, 2).float()
    valid = torch.ones(2, H, W, dtype=torch.bool)
    torch.testing.assert_close(soft_cross_entropy(logits, onehot, valid),
                               F.cross_entropy(logits, labels))


def _pus_weak(kappa, **kwargs):
    return dict(type='PUSLoss', mode='clamp', beta=1e9, kappa=kappa,
                loss=dict(type='SoftCrossEntropyLoss', loss_name='loss_weak'),
                **kwargs)


def test_loss_weak_is_a_config_dict_pus_clamps():
    torch.manual_seed(3)
    plain = LinearSelfCorrectionHead(primary=PRIMARY)
    kappa = 0.5
    pus = LinearSelfCorrectionHead(primary=PRIMARY,
                                   loss_weak=_pus_weak(kappa))
    pus.load_state_dict(plain.state_dict())
    samples = _samples(['full', 'box', 'box'])
    samples[2].set_metainfo(dict(img_shape=(4, 3)))  # padded image
    logits = 2 * torch.randn(3, C, H, W)
    anc = 2 * torch.randn(3, C, H, W)
    ref = plain.loss_by_feat(logits, samples, anc)
    assert not pus.loss_weak.last_active
    out = pus.loss_by_feat(logits, samples, anc)
    assert pus.loss_weak.last_active
    assert set(out) == set(ref) == {'loss_ce', 'acc_seg', 'loss_weak'}
    torch.testing.assert_close(out['loss_ce'], ref['loss_ce'])
    # clamped per pixel, averaged over the un-padded pixels
    q = linear_self_correction(logits[1:], anc[1:], 30.0)
    ce = -(q * F.log_softmax(logits[1:], 1)).sum(1)
    valid = torch.zeros(2, H, W, dtype=torch.bool)
    valid[0] = True
    valid[1, :4, :3] = True
    assert 0 < (ce[valid] > kappa).sum() < valid.sum()
    torch.testing.assert_close(out['loss_weak'],
                               ce.clamp(max=kappa)[valid].mean())
    assert out['loss_weak'] < ref['loss_weak']
    # disabled, PUS gives exactly the plain head's value
    pus.loss_weak.enabled = False
    torch.testing.assert_close(
        pus.loss_by_feat(logits, samples, anc)['loss_weak'],
        ref['loss_weak'], rtol=0, atol=0)


def test_loss_weak_name_and_weights():
    torch.manual_seed(4)
    samples = _samples(['box', 'box'])
    logits, anc = torch.randn(2, C, H, W), torch.randn(2, C, H, W)
    base = NoSelfCorrectionHead(primary=PRIMARY).loss_by_feat(
        logits, samples, anc)
    # no fully labeled image: the primary head's loss item is a zero
    assert set(base) == {'loss_ce', 'loss_weak'}
    assert base['loss_ce'].item() == 0
    named = NoSelfCorrectionHead(
        primary=PRIMARY, loss_weak_weight=2.0,
        loss_weak=dict(type='SoftCrossEntropyLoss', loss_name='loss_box'))
    out = named.loss_by_feat(logits, samples, anc)
    assert set(out) == {'loss_ce', 'loss_box'}
    torch.testing.assert_close(out['loss_box'], 2 * base['loss_weak'])
    inner = NoSelfCorrectionHead(
        primary=PRIMARY,
        loss_weak=dict(type='SoftCrossEntropyLoss', loss_weight=2.0))
    torch.testing.assert_close(
        inner.loss_by_feat(logits, samples, anc)['loss_weak'],
        2 * base['loss_weak'])
    with pytest.raises(ValueError, match='given twice'):
        NoSelfCorrectionHead(
            primary=PRIMARY, loss_weak_weight=2.0,
            loss_weak=dict(type='SoftCrossEntropyLoss', loss_weight=0.5))
    # the primary head's own loss name is kept for the zero item
    primary = dict(PRIMARY, loss_decode=dict(type='CrossEntropyLoss',
                                             loss_name='loss_seg'))
    out = NoSelfCorrectionHead(primary=primary).loss_by_feat(
        logits, samples, anc)
    assert set(out) == {'loss_seg', 'loss_weak'}


def test_conv_correction_loss_key_is_its_loss_name():
    torch.manual_seed(5)
    head = ConvSelfCorrectionHead(
        primary=PRIMARY, correction_channels=8,
        loss_correction=dict(type='CrossEntropyLoss', loss_name='loss_corr'))
    for sups in (['full', 'box'], ['box', 'box']):
        logits = torch.randn(2, C, H, W)
        anc = torch.randn(2, C, H, W)
        losses = head.loss_by_feat(logits, _samples(sups), anc)
        assert 'loss_corr' in losses and 'loss_correction' not in losses
