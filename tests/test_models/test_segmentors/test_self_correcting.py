"""Ancillary (box-conditioned) and primary (self-correcting) segmentors."""
import copy

import pytest
import torch
from config_utils import tiny_config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import MODELS

import mmseg_weak  # noqa: F401

ANC = ('configs/self_correction/'
       'ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')
NOSC = ('configs/self_correction/'
        'nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')


def _batch(cfg, n=1):
    """A batch from the (tiny) training dataloader of ``cfg``."""
    init_default_scope('mmseg')
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    return batch


def _model_and_batch(config, voc_root, tmp_path):
    cfg = tiny_config(config, voc_root, str(tmp_path))
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(_batch(cfg), True)
    return cfg, model, batch


def test_ancillary_uses_boxes_and_needs_them(voc_root, tmp_path):
    _, model, batch = _model_and_batch(ANC, voc_root, tmp_path)
    inputs, samples = batch['inputs'], batch['data_samples']
    losses = model.loss(inputs, samples)
    assert 'decode.loss_ce' in losses and 'aux.loss_ce' in losses
    model.eval()
    with torch.no_grad():
        logits = model.seg_logits(inputs, samples)
        moved = copy.deepcopy(samples)
        for s in moved:
            s.gt_instances.bboxes = s.gt_instances.bboxes.flip(0) * 0 + \
                torch.tensor([0., 0., 8., 8.])
        assert not torch.allclose(logits, model.seg_logits(inputs, moved))
        preds = model.predict(inputs, samples)
    assert preds[0].pred_sem_seg.shape == samples[0].ori_shape[:2]
    del samples[0].gt_instances
    with pytest.raises(ValueError, match='needs boxes but this sample has'):
        model.predict(inputs, samples)


def test_box_label_beyond_classes(voc_root, tmp_path):
    _, model, batch = _model_and_batch(ANC, voc_root, tmp_path)
    batch['data_samples'][0].gt_instances.labels[0] = 6
    with pytest.raises(ValueError, match=r'outside \[0, 6\)'):
        model.loss(batch['inputs'], batch['data_samples'])


@pytest.fixture
def ancillary_ckpt(voc_root, tmp_path):
    cfg = tiny_config(ANC, voc_root, str(tmp_path))
    anc = MODELS.build(cfg.model)
    path = str(tmp_path / 'anc.pth')
    torch.save(dict(state_dict=anc.state_dict(), meta=dict()), path)
    return path, anc


def test_primary_training_with_frozen_ancillary(voc_root, tmp_path,
                                                ancillary_ckpt):
    path, anc = ancillary_ckpt
    cfg = tiny_config(NOSC, voc_root, str(tmp_path))
    cfg.model.ancillary.checkpoint = path
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(_batch(cfg), True)
    with pytest.raises(RuntimeError, match='call init_weights'):
        model.loss(batch['inputs'], batch['data_samples'])
    model.init_weights()  # loads the ancillary weights (the Runner calls it)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert {'decode.loss_ce', 'decode.loss_weak', 'aux.loss_ce'} <= set(losses)
    # the loaded weights are the checkpoint's; the ancillary model is not a
    # submodule: no trainable, saved or DDP-wrapped parameter of it
    for key, value in anc.state_dict().items():
        torch.testing.assert_close(model.ancillary.state_dict()[key], value)
    own = {id(p) for p in model.parameters()}
    assert not own & {id(p) for p in model.ancillary.parameters()}
    assert not any(k.startswith('ancillary') for k in model.state_dict())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.ancillary.parameters())
    assert not model.ancillary.training
    model.train()  # the frozen model stays in eval mode (BN statistics)
    assert model.training and not model.ancillary.training
    # test time: primary only, no boxes needed
    model.eval()
    for s in batch['data_samples']:
        s.pop('gt_instances', None)
    with torch.no_grad():
        model.predict(batch['inputs'], batch['data_samples'])


def test_weak_image_without_boxes(voc_root, tmp_path, ancillary_ckpt):
    cfg = tiny_config(NOSC, voc_root, str(tmp_path))
    cfg.model.ancillary.checkpoint = ancillary_ckpt[0]
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = model.data_preprocessor(_batch(cfg), True)
    weak = [s for s in batch['data_samples'] if s.supervision == 'box'][0]
    del weak.gt_instances
    with pytest.raises(ValueError, match=weak.img_path):
        model.loss(batch['inputs'], batch['data_samples'])


def test_mismatched_ancillary_checkpoint(voc_root, tmp_path, ancillary_ckpt):
    path, anc = ancillary_ckpt
    state = anc.state_dict()
    state.pop(next(k for k in state if 'box_encoder' in k))
    bad = str(tmp_path / 'bad.pth')
    torch.save(dict(state_dict=state), bad)
    cfg = tiny_config(NOSC, voc_root, str(tmp_path))
    cfg.model.ancillary.checkpoint = bad
    model = MODELS.build(cfg.model)  # building needs no checkpoint
    with pytest.raises(ValueError, match='does not match the ancillary'):
        model.init_weights()
    cfg.model.ancillary.checkpoint = str(tmp_path / 'none.pth')
    model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError, match='ancillary checkpoint not'):
        model.init_weights()


def test_ancillary_from_a_config_dict(voc_root, tmp_path, ancillary_ckpt):
    """model.ancillary.config may be the ancillary model dict itself."""
    from mmengine.config import Config
    path, anc = ancillary_ckpt
    cfg = tiny_config(NOSC, voc_root, str(tmp_path))
    cfg.model.ancillary.config = Config.fromfile(ANC).model
    cfg.model.ancillary.checkpoint = path
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in anc.state_dict().items():
        torch.testing.assert_close(model.ancillary.state_dict()[key], value)
    cfg.model.ancillary.config = dict(cfg.model.ancillary.config,
                                      type='EncoderDecoder')
    cfg.model.ancillary.config.pop('box_encoder')
    with pytest.raises(ValueError, match='must be a BoxConditioned'):
        MODELS.build(cfg.model)
