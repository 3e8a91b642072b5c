import numpy as np
import torch
import torch.nn.functional as F

from mmseg_weak.models.necks import BoxEncoder
from mmseg_weak.utils import boxes_to_masks


def _boxes():
    return ([torch.tensor([[0., 0., 16., 8.], [8., 4., 32., 32.]]),
             torch.tensor([[4., 4., 12., 20.]])],
            [torch.tensor([1, 2]), torch.tensor([2])])


def test_attention_multiplies_selected_scales_only():
    torch.manual_seed(0)
    enc = BoxEncoder(num_classes=3, in_channels=(4, 6), in_index=(0, 2))
    feats = [torch.randn(2, 4, 8, 8), torch.randn(2, 5, 4, 4),
             torch.randn(2, 6, 2, 2)]
    bboxes, labels = _boxes()
    outs = enc(feats, bboxes, labels, (32, 32))
    assert outs[1] is feats[1]
    for conv, idx, size in zip(enc.attention_convs, (0, 2), (8, 2)):
        # the (C+1)-channel box mask at the feature scale = the full-size
        # mask sampled at the feature pixels' centres
        masks = torch.stack([
            torch.from_numpy(
                boxes_to_masks(b.numpy(), l.numpy(), 3, (32, 32)))
            for b, l in zip(bboxes, labels)
        ]).float()
        stride = 32 // size
        masks = masks[:, :, stride // 2::stride, stride // 2::stride]
        expected = feats[idx] * torch.sigmoid(
            F.conv2d(masks, conv.weight, conv.bias, padding=1))
        torch.testing.assert_close(outs[idx], expected)


def test_background_channel_and_gradients():
    enc = BoxEncoder(num_classes=3, in_channels=(2, ), in_index=(0, ))
    masks = enc.box_masks(*_boxes(), (8, 8), (32, 32))
    assert masks.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(masks[:, 0].numpy(),
                                  1 - masks[:, 1:].amax(1).numpy())
    feat = torch.randn(2, 2, 8, 8, requires_grad=True)
    enc([feat], *_boxes(), (32, 32))[0].sum().backward()
    assert enc.attention_convs[0].weight.grad.abs().sum() > 0


def test_mismatched_channels_raise():
    import pytest
    with pytest.raises(ValueError, match='differ in length'):
        BoxEncoder(num_classes=3, in_channels=(2, 3), in_index=(0, ))
