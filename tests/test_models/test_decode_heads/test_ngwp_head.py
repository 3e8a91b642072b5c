"""nGWP head (Araslanov & Roth, CVPR 2020, Eq. 3-6), the SG DeepLabV3+ head
and the CAM-GAP baseline head."""
import math

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_weak.models.decode_heads import (focal_mask_penalty, ngwp_scores,
                                            stack_image_labels)

torch.set_num_threads(2)


def test_ngwp_hand_checked_with_epsilon():
    logits = torch.tensor([2.0, 4.0]).view(1, 1, 1, 2)
    masks = torch.tensor([0.25, 0.75]).view(1, 1, 1, 2)
    # (0.25 * 2 + 0.75 * 4) / (eps + 1)
    assert ngwp_scores(logits, masks, eps=1.0).item() == pytest.approx(1.75)
    assert ngwp_scores(logits, masks, eps=0.5).item() == \
        pytest.approx(3.5 / 1.5)


def test_focal_penalty_hand_checked():
    masks = torch.tensor([0.25, 0.75, 0.0, 1.0]).view(1, 1, 2, 2)
    # mean 0.5: (1 - 0.5)^3 * log(0.01 + 0.5)
    assert focal_mask_penalty(masks, 3, 0.01).item() == \
        pytest.approx(0.125 * math.log(0.51))
    assert focal_mask_penalty(masks, 0, 0.1).item() == \
        pytest.approx(math.log(0.6))
    empty = torch.zeros(1, 1, 2, 2)
    assert focal_mask_penalty(empty, 3, 0.01).item() == \
        pytest.approx(math.log(0.01))


def _head(**kwargs):
    cfg = dict(
        type='NGWPHead',
        in_channels=4,
        channels=4,
        num_classes=3,
        pamr=dict(
            type='PixelAdaptiveMaskRefinement', num_iter=2,
            dilations=(1, 2)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(labels, size=(16, 16)):
    samples = []
    for vec in labels:
        s = SegDataSample()
        s.gt_img_labels = torch.tensor(vec, dtype=torch.float32)
        s.gt_sem_seg = PixelData(data=torch.full((1, *size), 255))
        s.set_metainfo(dict(img_shape=size, pad_shape=size))
        samples.append(s)
    return samples


def test_scores_masks_and_classification_loss():
    head = _head(seg_loss_enabled=False)
    fg = torch.tensor([[[[0.0, 2.0]], [[1.0, -1.0]]]])  # (1, 2, 1, 2)
    logits, masks, scores = head.masks_and_scores(fg)
    assert torch.equal(logits[:, 0], torch.ones(1, 1, 2))  # background 1
    torch.testing.assert_close(masks, torch.softmax(logits, 1))
    expected = []
    for c in (1, 2):
        m, y = masks[0, c].flatten(), logits[0, c].flatten()
        ngwp = (m * y).sum() / (1.0 + m.sum())
        focal = (1 - m.mean())**3 * torch.log(0.01 + m.mean())
        expected.append(ngwp + focal)
    torch.testing.assert_close(scores[0], torch.stack(expected))
    losses = head.loss_by_feat(fg, _samples([[1, 0, 1]]))
    assert set(losses) == {'loss_cls'}
    torch.testing.assert_close(
        losses['loss_cls'],
        torch.nn.MultiLabelSoftMarginLoss()(scores, torch.tensor([[0., 1.]])))


def test_segmentation_loss_with_pamr_pseudo_labels():
    head = _head()
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(2, 4, 4, 4, generator=g)]
    images = torch.zeros(2, 3, 16, 16)
    images[..., 8:] = 255
    samples = _samples([[1, 1, 0], [1, 0, 1]])
    losses = head.loss(feats, samples, dict(), images=images)
    assert {'loss_cls', 'loss_seg', 'acc_pseudo', 'pseudo_valid'} <= set(
        losses)
    assert torch.isfinite(losses['loss_seg'])
    (losses['loss_cls'] + losses['loss_seg']).backward()
    assert head.conv_seg.weight.grad is not None
    with pytest.raises(ValueError, match='images'):
        head.loss(feats, samples, dict())


def test_pseudo_labels_follow_the_reference_pipeline():
    head = _head()
    masks = torch.softmax(torch.randn(1, 3, 4, 4), 1)
    images = 255 * torch.rand(1, 3, 16, 16)
    labels = torch.tensor([[1., 1., 0.]])
    refined, label, valid = head.pseudo_labels(masks, images, labels)
    assert refined.shape == (1, 3, 16, 16) and label.shape == (1, 16, 16)
    assert 2 not in label.unique().tolist()  # absent class removed


def test_predict_masks_and_confidence_removal():
    head = _head().eval()
    feats = [torch.randn(1, 4, 4, 4)]
    metas = [dict(img_shape=(16, 16), pad_shape=(16, 16))]
    out = head.predict(feats, metas, dict())
    assert out.shape == (1, 3, 16, 16)
    torch.testing.assert_close(out.sum(1), torch.ones(1, 16, 16))
    # class 2 made hopeless: its score is very negative
    fg = torch.zeros(1, 2, 4, 4)
    fg[:, 1] = -20
    head.cls_score_thr = 0.1
    out = head.predict_by_feat(fg, metas)
    assert out[:, 2].abs().max() == 0 and out[:, 1].max() > 0


def test_image_labels_from_seg_map_fallback():
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=torch.tensor([[[0, 2], [255, 2]]]))
    assert stack_image_labels([s], 4).tolist() == [[1., 0., 1., 0.]]


def test_sg_aspp_head_forward_loss_predict():
    head = MODELS.build(
        dict(
            type='StochasticGateASPPHead',
            in_channels=16,
            in_index=3,
            channels=8,
            dilations=(1, 2),
            c1_in_channels=4,
            c1_channels=4,
            num_classes=3,
            norm_cfg=dict(type='BN'),
            pamr=dict(
                type='PixelAdaptiveMaskRefinement', num_iter=1,
                dilations=(1, ))))
    feats = [
        torch.randn(2, 4, 8, 8),
        torch.randn(2, 6, 4, 4),
        torch.randn(2, 8, 2, 2),
        torch.randn(2, 16, 2, 2)
    ]
    assert head(feats).shape == (2, 2, 8, 8)
    losses = head.loss(feats, _samples([[1, 1, 0], [1, 1, 1]], (32, 32)),
                       dict(), images=torch.rand(2, 3, 32, 32))
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert head.shallow.deep_proj.conv.weight.grad is not None
    head.eval()
    out = head.predict(feats, [dict(img_shape=(32, 32))] * 2, dict())
    assert out.shape == (2, 3, 32, 32)
    plain = MODELS.build(
        dict(
            type='StochasticGateASPPHead', in_channels=16, in_index=3,
            channels=8, dilations=(1, 2), c1_in_channels=4, num_classes=3,
            use_sg=False, norm_cfg=dict(type='BN')))
    assert not hasattr(plain, 'gate')
    assert plain(feats).shape == (2, 2, 8, 8)


def test_cam_head():
    head = MODELS.build(
        dict(type='CAMHead', in_channels=4, channels=4, num_classes=3))
    feats = [torch.randn(2, 4, 4, 4)]
    losses = head.loss(feats, _samples([[1, 1, 0], [1, 0, 1]]), dict())
    assert set(losses) == {'loss_cls'}
    head.eval()
    out = head.predict(feats, [dict(img_shape=(8, 8))] * 2, dict())
    assert out.shape == (2, 3, 8, 8)
    assert torch.allclose(out[:, 0], torch.full((2, 8, 8), 0.1))
    assert out[:, 1:].min() >= 0 and out[:, 1:].max() <= 1


def test_sigmoid_cross_entropy_is_the_multilabel_soft_margin_loss():
    """Eq. 6 is MMSeg's CrossEntropyLoss(use_sigmoid=True) on (N, C) scores
    and multi-hot labels (mean over classes and images): equal to torch's
    multi-label soft-margin loss (value and gradient) to float rounding."""
    from mmseg.registry import MODELS
    loss = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=True,
                             loss_name='loss_cls'))
    gen = torch.Generator().manual_seed(0)
    for n, c in ((4, 21), (16, 81), (1, 6)):
        x = (3 * torch.randn(n, c, generator=gen)).requires_grad_()
        y = (torch.rand(n, c, generator=gen) > 0.7).float()
        ours = loss(x, y)
        ref = torch.nn.functional.multilabel_soft_margin_loss(x, y)
        torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)
        g_ours, = torch.autograd.grad(ours, x)
        g_ref, = torch.autograd.grad(ref, x)
        torch.testing.assert_close(g_ours, g_ref, atol=1e-7, rtol=0)
