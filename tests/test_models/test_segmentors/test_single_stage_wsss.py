"""SingleStageWSSS: the decode head gets the de-normalised images in
training; prediction is EncoderDecoder's."""
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_weak.models.segmentors import SingleStageWSSS

torch.set_num_threads(2)
init_default_scope('mmseg')


def _model():
    return MODELS.build(
        dict(
            type='SingleStageWSSS',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[100.0, 110.0, 120.0],
                std=[50.0, 60.0, 70.0],
                bgr_to_rgb=True,
                size=(32, 32)),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(0, 1, 2, 3),
                dilations=(1, 1, 2, 4),
                strides=(1, 2, 1, 1),
                norm_cfg=dict(type='BN')),
            decode_head=dict(
                type='StochasticGateASPPHead',
                in_channels=64,
                in_index=3,
                channels=16,
                dilations=(1, 12),
                c1_in_channels=8,
                c1_channels=8,
                num_classes=4,
                norm_cfg=dict(type='BN'),
                pamr=dict(
                    type='PixelAdaptiveMaskRefinement', num_iter=2,
                    dilations=(1, 2))),
            test_cfg=ConfigDict(mode='whole')))


def _batch():
    inputs, samples = [], []
    for i in range(2):
        inputs.append(torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8))
        s = SegDataSample()
        s.gt_img_labels = torch.tensor([1., 1., 0., float(i)])
        s.gt_sem_seg = PixelData(data=torch.full((1, 32, 32), 255))
        s.set_metainfo(
            dict(img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32)))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_head_receives_denormalised_images(monkeypatch):
    model = _model()
    assert isinstance(model, SingleStageWSSS)
    data = model.data_preprocessor(_batch(), training=True)
    seen = {}
    original = model.decode_head.loss

    def spy(inputs, samples, train_cfg, images=None):
        seen['images'] = images
        return original(inputs, samples, train_cfg, images=images)

    monkeypatch.setattr(model.decode_head, 'loss', spy)
    losses = model(**data, mode='loss')
    assert {'decode.loss_cls', 'decode.loss_seg'} <= set(losses)
    images = seen['images']
    assert images.shape == (2, 3, 32, 32)
    assert not images.requires_grad
    # de-normalisation inverts the preprocessor exactly
    torch.testing.assert_close(
        (images - model.data_preprocessor.mean) / model.data_preprocessor.std,
        data['inputs'])
    assert -1e-3 <= images.min() and images.max() <= 255 + 1e-3


def test_train_step_and_plain_predict():
    model = _model()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    log = model.train_step(_batch(), OptimWrapper(optim))
    assert 'decode.loss_seg' in log and torch.isfinite(log['loss'])
    model.eval()
    with torch.no_grad():
        results = model.test_step(_batch())
    assert results[0].seg_logits.data.shape == (4, 32, 32)
    assert results[0].pred_sem_seg.data.shape == (1, 32, 32)


def _eval_masks(model, **test_cfg):
    model.test_cfg = ConfigDict(mode='whole', **test_cfg)
    torch.manual_seed(1)  # the same random images every call
    with torch.no_grad():
        return model.test_step(_batch())[0].seg_logits.data


def test_test_time_pamr_refines_the_raw_masks():
    """``test_cfg.pamr=True`` outputs the head's PAMR applied to the raw
    masks at their resolution on the resized de-normalised image."""
    torch.manual_seed(0)
    model = _model().eval()
    raw = _eval_masks(model)
    refined = _eval_masks(model, pamr=True)
    assert refined.shape == raw.shape == (4, 32, 32)
    assert not torch.allclose(raw, refined)
    torch.testing.assert_close(refined.sum(0), torch.ones(32, 32))
    # the same computed by hand
    torch.manual_seed(1)
    data = model.data_preprocessor(_batch(), training=False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        head = model.decode_head
        _, masks, _ = head.masks_and_scores(head.forward(feats))
        images = model.denormalize(data['inputs'])
        small = torch.nn.functional.interpolate(
            images, size=masks.shape[-2:], mode='bilinear',
            align_corners=True)
        expected = head.pamr(small, masks)
        expected = torch.nn.functional.interpolate(
            expected, size=(32, 32), mode='bilinear', align_corners=False)
    torch.testing.assert_close(refined, expected[0])


def test_test_time_crf_post_processing_is_applied(monkeypatch):
    calls = []

    @MODELS.register_module(name='_RecordingCRF', force=True)
    class _RecordingCRF(torch.nn.Module):

        def forward(self, probs, images):
            calls.append((probs.shape, images.shape))
            return probs.flip(1)

    model = _model().eval()
    raw = _eval_masks(model)
    post = _eval_masks(model, crf=dict(type='_RecordingCRF'))
    assert calls == [((2, 4, 32, 32), (2, 3, 32, 32))]
    torch.testing.assert_close(post, raw.flip(0))
    assert not any('crf' in k for k in model.state_dict())


def test_without_pamr_pseudo_labels_come_from_raw_masks():
    """The "no PAMR" ablation (Table 1b) trains; test-time PAMR is then an
    error."""
    model = _model()
    model.decode_head.pamr = None
    losses = model(**model.data_preprocessor(_batch(), training=True),
                   mode='loss')
    assert torch.isfinite(losses['decode.loss_seg'])
    model.eval()
    import pytest
    with pytest.raises(ValueError, match='PAMR'):
        _eval_masks(model, pamr=True)
