"""tools/generate_pseudo_masks.py and tools/generate_cams.py end to end on the
generated VOC folder: palette PNGs, resumable and atomic, parallel == serial,
the mIoU report against an independent computation, clear errors."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_weak.datasets.voc_annotation import parse_voc_xml
from mmseg_weak.utils.cam_io import CAMFileError, save_cams
from mmseg_weak.utils.label_png import write_label_png

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle']
CAM_CONFIG = 'configs/single_stage/cam-gap_r18-d8_2xb4-2k_synthvoc-96x96.py'


def _load_tool(name):
    if name in sys.modules:  # one module object per tool: pool workers
        return sys.modules[name]  # unpickle its classes by name
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pool workers unpickle its functions
    spec.loader.exec_module(module)
    return module


gpm = _load_tool('generate_pseudo_masks')


def _gt(root, img_id):
    return np.array(
        Image.open(osp.join(root, 'SegmentationClassAug', img_id + '.png')))


def _xml_classes(root, img_id):
    ann = parse_voc_xml(osp.join(root, 'Annotations', img_id + '.xml'),
                        CLASSES)
    return sorted({i['bbox_label'] for i in ann['instances']})


def _ids(root):
    with open(osp.join(root, 'ImageSets', 'Segmentation', 'aug.txt')) as f:
        return f.read().split()


@pytest.fixture(scope='module')
def cams(voc_root, tmp_path_factory):
    """Blurred, noisy GT masks as raw CAMs of the XML classes."""
    out = tmp_path_factory.mktemp('cams')
    for n, img_id in enumerate(_ids(voc_root)):
        gt = _gt(voc_root, img_id)
        rng = np.random.default_rng(n)
        keys = _xml_classes(voc_root, img_id)
        maps = [
            5 * cv2.GaussianBlur((gt == c).astype(np.float32), (0, 0), 4) *
            rng.uniform(0.6, 1.0, gt.shape) for c in keys
        ]
        save_cams(str(out / f'{img_id}.npz'), np.array(maps), keys)
    return str(out)


def _argv(voc_root, cam_dir, out_dir, *extra):
    return [
        '--img-dir', osp.join(voc_root, 'JPEGImages'), '--cam-dir', cam_dir,
        '--out-dir', str(out_dir), '--ids',
        osp.join(voc_root, 'ImageSets', 'Segmentation', 'aug.txt'),
        '--classes', *CLASSES, *extra
    ]


def _read_dir(folder):
    return {
        name: np.array(Image.open(osp.join(folder, name)))
        for name in sorted(os.listdir(folder)) if name.endswith('.png')
    }


def _oracle_iou(pred_dir, voc_root, ids, num_classes=6):
    """Per-class IoU (%) from one confusion matrix over all pixels."""
    conf = np.zeros((num_classes, num_classes), np.int64)
    for img_id in ids:
        gt = _gt(voc_root, img_id).astype(np.int64)
        pred = np.array(Image.open(osp.join(pred_dir, img_id + '.png')))
        keep = gt != 255
        conf += np.bincount(gt[keep] * num_classes + pred[keep],
                            minlength=num_classes**2).reshape(
                                num_classes, num_classes)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    return inter / union * 100


@pytest.fixture(scope='module')
def ppmg_serial(voc_root, cams, tmp_path_factory):
    out = tmp_path_factory.mktemp('ppmg_serial')
    report = gpm.main(
        _argv(voc_root, cams, out, '--gt-dir',
              osp.join(voc_root, 'SegmentationClassAug')))
    return str(out), report


def test_ppmg_end_to_end_and_report(voc_root, ppmg_serial, capsys):
    out, report = ppmg_serial
    ids = _ids(voc_root)
    masks = _read_dir(out)
    assert sorted(masks) == sorted(i + '.png' for i in ids)
    for img_id in ids:
        png = Image.open(osp.join(out, img_id + '.png'))
        assert png.mode == 'P'
        assert png.getpalette()[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]
        mask = masks[img_id + '.png']
        assert mask.shape == _gt(voc_root, img_id).shape
        # only the image's labelled classes and the background
        assert set(np.unique(mask)) <= {0, *_xml_classes(voc_root, img_id)}
    expected = _oracle_iou(out, voc_root, ids)
    got = [report['IoU'][c] for c in CLASSES]
    np.testing.assert_allclose(got, expected, atol=0.006)
    assert report['mIoU'] == pytest.approx(expected.mean(), abs=0.006)
    assert report['mIoU'] > 60  # blurred GT CAMs give good masks
    with open(osp.join(out, 'pseudo_mask_miou.json')) as f:
        assert json.load(f)['mIoU'] == report['mIoU']


def test_parallel_equals_serial(voc_root, cams, ppmg_serial, tmp_path):
    gpm.main(_argv(voc_root, cams, tmp_path, '--nproc', '2'))
    serial, parallel = _read_dir(ppmg_serial[0]), _read_dir(str(tmp_path))
    assert serial.keys() == parallel.keys()
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])


def test_resume_skips_finished_and_redoes_missing(voc_root, cams, tmp_path):
    ids = _ids(voc_root)
    argv = _argv(voc_root, cams, tmp_path, '--method', 'argmax')
    gpm.main(argv)
    first = _read_dir(str(tmp_path))
    os.remove(tmp_path / f'{ids[0]}.png')
    marker = np.full(first[ids[1] + '.png'].shape, 3, np.uint8)
    write_label_png(str(tmp_path / f'{ids[1]}.png'), marker)
    gpm.main(argv)
    second = _read_dir(str(tmp_path))
    np.testing.assert_array_equal(second[ids[0] + '.png'],
                                  first[ids[0] + '.png'])  # redone
    np.testing.assert_array_equal(second[ids[1] + '.png'], marker)  # kept
    gpm.main(argv + ['--overwrite'])
    np.testing.assert_array_equal(
        _read_dir(str(tmp_path))[ids[1] + '.png'], first[ids[1] + '.png'])
    assert sorted(os.listdir(tmp_path)) == sorted(i + '.png' for i in ids)


def test_interrupted_write_leaves_no_png(tmp_path, monkeypatch):
    def broken_save(self, fp, format=None, **kwargs):
        fp.write(b'\x89PNG half')
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, 'save', broken_save)
    with pytest.raises(KeyboardInterrupt):
        write_label_png(str(tmp_path / 'a.png'), np.zeros((2, 2), np.uint8))
    assert os.listdir(tmp_path) == []


def test_perfect_cams_give_miou_100(voc_root, tmp_path):
    """One-hot GT as CAMs + constant background 0.5: the masks are the GT."""
    ids = _ids(voc_root)[:4]
    cam_dir = tmp_path / 'cams'
    for img_id in ids:
        gt = _gt(voc_root, img_id)
        keys = _xml_classes(voc_root, img_id)
        save_cams(str(cam_dir / f'{img_id}.npz'),
                  np.array([gt == c for c in keys], np.float32), keys)
    split = tmp_path / 'ids.txt'
    split.write_text('\n'.join(ids))
    argv = _argv(voc_root, str(cam_dir), tmp_path / 'out', '--method',
                 'argmax', '--background-score', '0.5', '--gt-dir',
                 osp.join(voc_root, 'SegmentationClassAug'),
                 '--ann-dir', osp.join(voc_root, 'Annotations'), '--report',
                 str(tmp_path / 'r.json'))
    argv[argv.index('--ids') + 1] = str(split)
    report = gpm.main(argv)
    assert report['mIoU'] == 100.0
    for img_id in ids:
        np.testing.assert_array_equal(
            np.array(Image.open(tmp_path / 'out' / f'{img_id}.png')),
            _gt(voc_root, img_id))


@pytest.mark.parametrize('case, match', [
    ('missing_cam', r'\.npz: CAM file not found'),
    ('size', 'differs from the image size'),
    ('xml_mismatch', 'not labelled with'),
    ('missing_img_dir', '--img-dir folder not found'),
    ('bad_ids', 'split file not found'),
])
def test_bad_input_errors(voc_root, cams, tmp_path, case, match):
    ids = _ids(voc_root)[:2]
    cam_dir = tmp_path / 'cams'
    cam_dir.mkdir()
    for img_id in ids:
        data = np.load(osp.join(cams, img_id + '.npz'))
        cam, keys = data['cam'], data['keys']
        if case == 'size' and img_id == ids[1]:
            cam = cam[:, :-1]
        if case == 'xml_mismatch' and img_id == ids[1]:
            keys = np.array(sorted(set(range(1, 6)) - set(keys.tolist()))[:1])
            cam = cam[:1]
        if not (case == 'missing_cam' and img_id == ids[1]):
            np.savez(str(cam_dir / f'{img_id}.npz'), keys=keys, cam=cam)
    split = tmp_path / 'ids.txt'
    split.write_text('\n'.join(ids))
    argv = _argv(voc_root, str(cam_dir), tmp_path / 'out', '--method',
                 'argmax', '--ann-dir', osp.join(voc_root, 'Annotations'))
    argv[argv.index('--ids') + 1] = str(split)
    if case == 'missing_img_dir':
        argv[argv.index('--img-dir') + 1] = str(tmp_path / 'nope')
    if case == 'bad_ids':
        argv[argv.index('--ids') + 1] = str(tmp_path / 'nope.txt')
    with pytest.raises((CAMFileError, FileNotFoundError, ValueError),
                       match=match) as err:
        gpm.main(argv)
    if case in ('missing_cam', 'size', 'xml_mismatch'):
        assert str(cam_dir / ids[1]) in str(err.value)
        # the good image before it was written, the bad one was not
        assert sorted(os.listdir(tmp_path / 'out')) == [ids[0] + '.png']


def test_cli_reports_error_cleanly(voc_root, tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/generate_pseudo_masks.py', '--img-dir',
         osp.join(voc_root, 'JPEGImages'), '--cam-dir', str(tmp_path),
         '--out-dir', str(tmp_path / 'o')],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1
    assert f'error: no image id in {tmp_path}' in proc.stderr
    assert 'Traceback' not in proc.stderr


# ------------------------------------------------------ tools/generate_cams
@pytest.fixture(scope='module')
def cam_model(voc_root, tmp_path_factory):
    from config_utils import tiny_config
    from mmseg.apis import init_model
    tmp = tmp_path_factory.mktemp('cam_model')
    cfg = tiny_config(osp.join(ROOT, CAM_CONFIG), voc_root, str(tmp))
    cfg.test_dataloader.dataset.pop('indices', None)
    cfg_path = str(tmp / 'cam.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = init_model(cfg_path, None, device='cpu')
    ckpt = str(tmp / 'cam.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=tuple(CLASSES)))), ckpt)
    return cfg_path, ckpt, model


def test_multi_scale_flip_cams(voc_root, cam_model):
    gcam = _load_tool('generate_cams')
    model = cam_model[2]
    img = cv2.imread(osp.join(voc_root, 'JPEGImages', '2012_000004.jpg'))
    head = model.decode_head
    # scale 1, no flip: the head's activations resized to the image
    single = gcam.multi_scale_cams(model, img, [1.0])
    inputs = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(img.transpose(2, 0, 1).copy())]),
        False)['inputs']
    with torch.no_grad():
        act = head.forward(model.extract_feat(inputs))
    ref = torch.nn.functional.interpolate(
        act, img.shape[:2], mode='bilinear', align_corners=False)[0]
    torch.testing.assert_close(single, ref)
    assert single.shape == (5, *img.shape[:2])
    # with flip the sum is flip-equivariant; without it is not
    both = gcam.multi_scale_cams(model, img, [1.0, 0.5], flip=True)
    both_f = gcam.multi_scale_cams(model, img[:, ::-1].copy(), [1.0, 0.5],
                                   flip=True)
    torch.testing.assert_close(both_f, both.flip(-1), atol=1e-4, rtol=1e-4)
    one_f = gcam.multi_scale_cams(model, img[:, ::-1].copy(), [1.0])
    assert not torch.allclose(one_f, single.flip(-1), atol=1e-4)


def test_generate_cams_then_pseudo_masks(voc_root, cam_model, tmp_path):
    cfg_path, ckpt, _ = cam_model
    gcam = _load_tool('generate_cams')
    out = tmp_path / 'cams'
    argv = [cfg_path, ckpt, '--out-dir', str(out), '--scales', '1.0', '0.5',
            '--flip', '--device', 'cpu']
    written = gcam.main(argv)
    val = ['2012_000002', '2012_000005', '2012_000007', '2012_000016']
    assert sorted(osp.basename(p) for p in written) == [
        i + '.npz' for i in val
    ]
    for img_id in val:
        data = np.load(out / f'{img_id}.npz')
        assert data['keys'].tolist() == _xml_classes(voc_root, img_id)
        assert data['cam'].shape[1:] == _gt(voc_root, img_id).shape
        assert data['cam'].dtype == np.float32
        assert np.isfinite(data['cam']).all() and (data['cam'] >= 0).all()
    assert gcam.main(argv) == []  # resumable: nothing left to do
    report = gpm.main([
        '--img-dir', osp.join(voc_root, 'JPEGImages'), '--cam-dir',
        str(out), '--out-dir', str(tmp_path / 'masks'), '--classes',
        *CLASSES, '--ann-dir', osp.join(voc_root, 'Annotations'), '--gt-dir',
        osp.join(voc_root, 'SegmentationClassAug'), '--crf-iters', '2'
    ])
    assert report['num_images'] == 4 and 0 <= report['mIoU'] <= 100


# ------------------------------------------- pipelines (the --method presets)
@pytest.mark.parametrize('method,extra', [
    ('ppmg', []),
    ('ppmg', ['--cov-scale', '0']),
    ('argmax-crf', []),
    ('argmax-crf', ['--cov-scale', '0.3', '--alpha', '4']),
    ('argmax', ['--background-score', '0.2']),
])
def test_presets_equal_the_shared_functions(voc_root, cams, tmp_path, method,
                                            extra):
    """The presets run the registered transforms and give the output of
    ``pseudo_mask_from_cams`` (the library function they replaced)."""
    from mmseg_weak.models.utils.cam_pseudo_masks import pseudo_mask_from_cams
    from mmseg_weak.utils.cam_io import load_cams
    argv = _argv(voc_root, cams, tmp_path, '--method', method, '--crf-iters',
                 '3', *extra)
    ids = _ids(voc_root)[:3]
    split = tmp_path / 'ids.txt'
    split.write_text('\n'.join(ids))
    argv[argv.index('--ids') + 1] = str(split)
    gpm.main(argv)
    args = gpm.parse_args(argv)
    types = [step['type'] for step in gpm.preset_pipeline(args)]
    assert types[:3] == ['LoadImageFromFile', 'LoadCAMs', 'NormalizeCAMs']
    crf = dict(num_iter=3, gaussian_sxy=3.0,
               gaussian_compat=10.0 if method == 'ppmg' else 3.0,
               bilateral_sxy=80.0, bilateral_srgb=13.0, bilateral_compat=10.0)
    for img_id in ids:
        image = cv2.imread(osp.join(voc_root, 'JPEGImages', img_id + '.jpg'))
        raw, keys = load_cams(osp.join(cams, img_id + '.npz'))
        expected = pseudo_mask_from_cams(
            raw, keys, image[..., ::-1], method, alpha=args.alpha,
            cov_scale=args.cov_scale, background_score=args.background_score,
            crf_cfg=crf)
        got = np.array(Image.open(tmp_path / f'{img_id}.png'))
        np.testing.assert_array_equal(got, expected)


def test_pipeline_file_cam_pamr_crf(voc_root, cams, tmp_path):
    """A pipeline file mixing the papers' steps (CAM background -> PAMR ->
    dense CRF -> argmax): every mask holds only the image's labelled classes
    and the background, and the masks are good on blurred GT CAMs."""
    argv = _argv(voc_root, cams, tmp_path / 'out', '--pipeline',
                 osp.join(ROOT, 'configs/recipes/pseudo_masks/'
                          'cam_pamr_crf.py'), '--gt-dir',
                 osp.join(voc_root, 'SegmentationClassAug'), '--ann-dir',
                 osp.join(voc_root, 'Annotations'), '--print-pipeline')
    report = gpm.main(argv)
    for img_id in _ids(voc_root):
        mask = np.array(Image.open(tmp_path / 'out' / f'{img_id}.png'))
        assert set(np.unique(mask)) <= {0, *_xml_classes(voc_root, img_id)}
    assert report['mIoU'] > 50
    assert [s['type'] for s in report['pipeline']][-3:] == [
        'PAMRRefineMasks', 'DenseCRFRefine', 'ArgmaxPseudoMask'
    ]
    assert report['pipeline'][1]['cam_dir'] == cams


def test_pipeline_without_seg_map_is_an_error(voc_root, cams, tmp_path):
    cfg = tmp_path / 'p.py'
    cfg.write_text("pipeline = [dict(type='LoadImageFromFile'),\n"
                   "            dict(type='LoadCAMs', cam_dir='x')]\n")
    argv = _argv(voc_root, cams, tmp_path / 'out', '--pipeline', str(cfg))
    with pytest.raises(ValueError, match='the pipeline wrote no gt_seg_map'):
        gpm.main(argv)
