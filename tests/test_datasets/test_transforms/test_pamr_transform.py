"""PAMRRefineMasks: PAMR on loaded soft masks / CAMs as a data transform."""
import numpy as np
import torch
import torch.nn.functional as F
from mmseg.registry import TRANSFORMS

from mmseg_weak.models.utils import pamr_refine

torch.set_num_threads(1)


def _results():
    img = np.zeros((16, 20, 3), np.uint8)
    img[:, 10:] = 200
    x = np.linspace(0, 1, 10, dtype=np.float32)
    fg = np.tile(x, (8, 1))  # blurred mask at half resolution
    soft = np.stack([1 - fg, fg, np.zeros_like(fg)])
    return dict(img=img, soft_mask=soft,
                soft_mask_classes=np.array([0, 1, 2]),
                gt_img_labels=np.array([1, 1, 0], np.float32))


def test_refines_at_mask_resolution():
    t = TRANSFORMS.build(
        dict(type='PAMRRefineMasks', out_key='refined', num_iter=5))
    results = t(_results())
    refined = results['refined']
    assert refined.shape == (3, 8, 10) and refined.dtype == np.float32
    image = torch.from_numpy(_results()['img']).permute(2, 0, 1)[None]
    image = F.interpolate(image.float(), size=(8, 10), mode='bilinear',
                          align_corners=True)
    expected = pamr_refine(image,
                           torch.from_numpy(_results()['soft_mask'])[None],
                           5)[0].numpy()
    np.testing.assert_allclose(refined, expected, atol=1e-6)
    np.testing.assert_array_equal(results['soft_mask'],
                                  _results()['soft_mask'])
    assert 'PAMRRefineMasks' in repr(t)


def test_mask_to_image_and_pseudo_label_map():
    t = TRANSFORMS.build(
        dict(type='PAMRRefineMasks', resize='mask_to_image',
             seg_map_key='gt_seg_map'))
    results = t(_results())
    assert results['soft_mask'].shape == (3, 16, 20)
    seg = results['gt_seg_map']
    assert seg.shape == (16, 20) and seg.dtype == np.uint8
    assert set(np.unique(seg)) <= {0, 1, 255}
    assert 'gt_seg_map' in results['seg_fields']
    assert results['pseudo_label_valid']
    # the refined labels follow the image edge at column 10
    assert (seg[:, 12:] != 0).all() and (seg[:, :8] != 1).all()
