"""COCO 2014 instances -> VOC-style class label maps (hand-written json)."""
import copy
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmseg_weak.datasets import AnnotationError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'coco2014_to_voc.py')


def _load_tool():
    if 'coco2014_to_voc' in sys.modules:  # one module object per session
        return sys.modules['coco2014_to_voc']
    spec = importlib.util.spec_from_file_location('coco2014_to_voc', TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # workers unpickle its functions
    spec.loader.exec_module(module)
    return module


tool = _load_tool()

CATEGORIES = [
    dict(id=1, name='person', supercategory='person'),
    dict(id=3, name='car', supercategory='vehicle'),
    dict(id=18, name='dog', supercategory='animal'),
    dict(id=90, name='toothbrush', supercategory='indoor'),
]

# image 1 (5x6): a person box on top of a larger dog box although the dog
# comes later in the file; the dog's second polygon part has 2 points only
# image 2 (3x4): a crowd car (uncompressed RLE, column-major runs) under a
# smaller toothbrush (compressed RLE)
# image 3 (4x4): no annotation
COCO = dict(
    images=[
        dict(id=1, file_name='COCO_train2014_000000000001.jpg', height=5,
             width=6),
        dict(id=2, file_name='COCO_train2014_000000000002.jpg', height=3,
             width=4),
        dict(id=3, file_name='COCO_train2014_000000000003.jpg', height=4,
             width=4),
    ],
    annotations=[
        dict(id=10, image_id=1, category_id=1, iscrowd=0, area=6.0,
             segmentation=[[1, 1, 4, 1, 4, 3, 1, 3]]),
        dict(id=11, image_id=1, category_id=18, iscrowd=0, area=24.0,
             segmentation=[[0, 0, 6, 0, 6, 4, 0, 4], [0, 0, 2, 2]]),
        dict(id=20, image_id=2, category_id=3, iscrowd=1, area=9.0,
             segmentation=dict(size=[3, 4], counts=[2, 3, 1, 6])),
        dict(id=21, image_id=2, category_id=90, iscrowd=0, area=4.0,
             segmentation=dict(size=[3, 4], counts='5120O1')),
    ],
    categories=CATEGORIES)

LABEL_1 = [[18, 18, 18, 18, 18, 18],
           [18, 1, 1, 1, 18, 18],
           [18, 1, 1, 1, 18, 18],
           [18, 18, 18, 18, 18, 18],
           [0, 0, 0, 0, 0, 0]]
LABEL_2 = [[0, 3, 3, 3],
           [0, 3, 3, 90],
           [3, 90, 90, 90]]
LABEL_2_CROWD_IGNORED = [[0, 255, 255, 255],
                         [0, 255, 255, 90],
                         [255, 90, 90, 90]]


def write_coco(root: str, data: dict = None, split: str = 'train') -> str:
    """Write ``data`` as ``<root>/annotations/instances_<split>2014.json``."""
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    path = osp.join(root, 'annotations', f'instances_{split}2014.json')
    with open(path, 'w') as f:
        json.dump(COCO if data is None else data, f)
    return path


def _png(out_dir, stem):
    png = Image.open(osp.join(out_dir, 'class_labels', stem + '.png'))
    assert png.mode == 'P'
    return np.array(png)


def test_compressed_rle_counts_hand_decoded():
    # '5','1','2' literal; '0' = 0 + run[-2]; 'O' = 31 -> -1 (sign bit)
    # + run[-2]; '1' = 1 + run[-2]
    assert tool.compressed_rle_counts('5120O1') == [5, 1, 2, 1, 1, 2]
    # two 5-bit groups: 'e' = 53 -> 21 with "more", '<' = 12 -> 12 * 32
    assert tool.compressed_rle_counts('e<') == [21 + 12 * 32]
    assert tool.compressed_rle_counts('e') is None  # ends inside a run
    assert tool.compressed_rle_counts('5\x10') is None  # not in alphabet


def test_exact_label_maps(tmp_path):
    json_path = write_coco(str(tmp_path))
    out = str(tmp_path / 'voc_format')
    stems = tool.convert_split(json_path, out, 'train')
    assert stems == ['COCO_train2014_000000000001',
                     'COCO_train2014_000000000002']
    with open(osp.join(out, 'train.txt')) as f:
        assert f.read().split() == stems
    np.testing.assert_array_equal(_png(out, stems[0]), LABEL_1)
    np.testing.assert_array_equal(_png(out, stems[1]), LABEL_2)
    assert not osp.exists(
        osp.join(out, 'class_labels', 'COCO_train2014_000000000003.png'))
    # palette: VOC colours, class 1 dark red
    palette = Image.open(
        osp.join(out, 'class_labels', stems[0] + '.png')).getpalette()
    assert palette[3:6] == [128, 0, 0]


def test_crowd_ignore_and_keep_empty(tmp_path):
    json_path = write_coco(str(tmp_path))
    out = str(tmp_path / 'voc_format')
    stems = tool.convert_split(json_path, out, 'train', crowd='ignore',
                               keep_empty=True)
    assert len(stems) == 3
    np.testing.assert_array_equal(_png(out, stems[1]), LABEL_2_CROWD_IGNORED)
    np.testing.assert_array_equal(_png(out, stems[2]), np.zeros((4, 4)))
    # labels of another crowd mode are not resumed into silently
    with pytest.raises(ValueError, match='--overwrite'):
        tool.convert_split(json_path, out, 'train', crowd='label')
    tool.convert_split(json_path, out, 'train', crowd='label',
                       overwrite=True)
    np.testing.assert_array_equal(_png(out, stems[1]), LABEL_2)


def test_missing_area_uses_pixel_count(tmp_path):
    data = copy.deepcopy(COCO)
    for ann in data['annotations']:
        del ann['area']
    out = str(tmp_path / 'voc_format')
    stems = tool.convert_split(write_coco(str(tmp_path), data), out, 'train')
    np.testing.assert_array_equal(_png(out, stems[0]), LABEL_1)
    np.testing.assert_array_equal(_png(out, stems[1]), LABEL_2)


def test_resume_keeps_written_maps_and_parallel_equals_serial(tmp_path):
    json_path = write_coco(str(tmp_path))
    out = str(tmp_path / 'voc_format')
    stems = tool.convert_split(json_path, out, 'train')
    first = osp.join(out, 'class_labels', stems[0] + '.png')
    second = osp.join(out, 'class_labels', stems[1] + '.png')
    tool.save_label_png(first, np.full((5, 6), 7, np.uint8))  # "old" file
    os.remove(second)  # "interrupted" before this one
    tool.convert_split(json_path, out, 'train', nproc=2)
    assert (_png(out, stems[0]) == 7).all()  # kept
    np.testing.assert_array_equal(_png(out, stems[1]), LABEL_2)  # redone
    tool.convert_split(json_path, out, 'train', overwrite=True, nproc=2)
    np.testing.assert_array_equal(_png(out, stems[0]), LABEL_1)
    assert not [f for f in os.listdir(osp.join(out, 'class_labels'))
                if f.endswith('.tmp')]


def _broken(mutate):
    data = copy.deepcopy(COCO)
    mutate(data)
    return data


@pytest.mark.parametrize('mutate,message', [
    (lambda d: d['annotations'][0].update(category_id=12),
     r'annotation 10: unknown category_id 12'),
    (lambda d: d['annotations'][0].update(image_id=99),
     r'annotation 10: unknown image_id 99'),
    (lambda d: d['categories'].append(dict(id=91, name='hair brush')),
     r"category id 91 \('hair brush'\) is not in 1-90"),
    (lambda d: d['categories'][0].update(name='people'),
     r"category 1 is 'people', COCO 2014 names it 'person'"),
    (lambda d: d['images'][1].update(file_name=d['images'][0]['file_name']),
     'listed twice'),
    (lambda d: d['images'][0].pop('height'), 'height None'),
    (lambda d: d['annotations'][0].update(segmentation=[[1, 1, 4, 1, 4]]),
     r'image 1 \(COCO_train2014_000000000001.jpg\): annotation 10: a '
     'polygon must be a flat list of an even number'),
    (lambda d: d['annotations'][2]['segmentation'].update(size=[4, 3]),
     r'annotation 20: RLE size \[4, 3\] differs from the image size'),
    (lambda d: d['annotations'][2]['segmentation'].update(counts=[2, 3]),
     'annotation 20: uncompressed RLE counts must be non-negative ints '
     'summing to 12'),
    (lambda d: d['annotations'][3]['segmentation'].update(counts='5120O'),
     'annotation 21: corrupt compressed RLE'),
    (lambda d: d['annotations'][3].update(segmentation=None),
     'annotation 21: no polygon or RLE segmentation'),
    (lambda d: d['annotations'][3].update(iscrowd=2), 'iscrowd 2'),
])
def test_broken_annotations_name_file_and_annotation(tmp_path, mutate,
                                                     message):
    json_path = write_coco(str(tmp_path), _broken(mutate))
    with pytest.raises(AnnotationError, match=message) as info:
        tool.convert_split(json_path, str(tmp_path / 'out'), 'train')
    assert json_path in str(info.value)


def test_unreadable_json(tmp_path):
    path = tmp_path / 'annotations' / 'instances_val2014.json'
    path.parent.mkdir()
    path.write_text('{"images": [')
    with pytest.raises(AnnotationError, match='not valid JSON'):
        tool.convert_split(str(path), str(tmp_path / 'out'), 'val')
    with pytest.raises(AnnotationError, match='not found'):
        tool.convert_split(str(tmp_path / 'nope.json'), str(tmp_path), 'val')


def test_command_line(tmp_path):
    write_coco(str(tmp_path), split='train')
    val = copy.deepcopy(COCO)
    for img in val['images']:
        img['file_name'] = img['file_name'].replace('train', 'val')
    write_coco(str(tmp_path), val, split='val')
    proc = subprocess.run(
        [sys.executable, TOOL, str(tmp_path), '--nproc', '2'], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = osp.join(str(tmp_path), 'voc_format')
    with open(osp.join(out, 'val.txt')) as f:
        assert f.read().split() == ['COCO_val2014_000000000001',
                                    'COCO_val2014_000000000002']
    np.testing.assert_array_equal(_png(out, 'COCO_val2014_000000000002'),
                                  LABEL_2)
    assert 'skipped 1 polygon part(s)' in proc.stdout


def _reference_label(image, anns):
    """The WSSS ``class_labels`` convention (our literal re-statement of
    coco2voc's ``annotations_to_seg``): masks sorted by area, a pixel keeps
    the first (smallest) category that reaches it."""
    from pycocotools import mask as mask_utils
    h, w = image['height'], image['width']
    seg = np.zeros((h, w))
    for ann in sorted(anns, key=lambda a: a['area']):
        segm = ann['segmentation']
        if isinstance(segm, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        elif isinstance(segm['counts'], list):
            rle = mask_utils.frPyObjects(segm, h, w)
        else:
            rle = segm
        m = mask_utils.decode(rle)
        seg = np.where(seg > 0, seg, m * ann['category_id'])
    return seg


def test_random_images_match_reference_convention(tmp_path):
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    images, anns = [], []
    for img_id in range(1, 7):
        h, w = (int(v) for v in rng.integers(8, 40, 2))
        images.append(dict(id=img_id, height=h, width=w,
                           file_name=f'COCO_train2014_{img_id:012d}.jpg'))
        for _ in range(int(rng.integers(1, 6))):
            cat = int(rng.choice([1, 3, 18, 90]))
            ann = dict(id=len(anns) + 1, image_id=img_id, category_id=cat,
                       iscrowd=0)
            if rng.random() < 0.6:
                # 1-2 polygons of 3-6 points, slightly beyond the borders
                ann['segmentation'] = []
                for _ in range(int(rng.integers(1, 3))):
                    points = rng.random((int(rng.integers(3, 7)), 2))
                    points = points * [w + 2, h + 2] - 1
                    ann['segmentation'].append(
                        points.round(2).ravel().tolist())
            else:  # compressed RLE of a random blob
                m = np.zeros((h, w), np.uint8)
                y, x = rng.integers(0, h), rng.integers(0, w)
                m[y:y + int(rng.integers(1, h)), x:x + int(rng.integers(
                    1, w))] = 1
                m &= (rng.random((h, w)) < 0.8).astype(np.uint8)
                rle = mask_utils.encode(np.asfortranarray(m))
                ann['segmentation'] = dict(size=[h, w],
                                           counts=rle['counts'].decode())
            ann['area'] = float(rng.integers(1, 500))
            anns.append(ann)
    data = dict(images=images, annotations=anns, categories=CATEGORIES)
    out = str(tmp_path / 'voc_format')
    stems = tool.convert_split(write_coco(str(tmp_path), data), out, 'train')
    assert len(stems) == 6
    for image, stem in zip(images, stems):
        own = [a for a in anns if a['image_id'] == image['id']]
        expected = _reference_label(image, own)
        assert expected.any()
        np.testing.assert_array_equal(_png(out, stem), expected)
