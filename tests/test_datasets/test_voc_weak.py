import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmseg_weak.datasets import AnnotationError, WeakVOCDataset

AUG_MINUS_TRAIN = 'ImageSets/Segmentation/splits/seed0/aug_minus_train.txt'


def _dataset(root, metainfo, **kwargs):
    kwargs.setdefault('ann_file', 'ImageSets/Segmentation/aug.txt')
    return WeakVOCDataset(data_root=root, metainfo=metainfo, **kwargs)


def test_full_supervision_points_at_masks_only(voc_root, synth_metainfo):
    ds = _dataset(voc_root, synth_metainfo, supervision='full')
    assert len(ds) == 12
    info = ds.get_data_info(0)
    assert info['supervision'] == 'full'
    assert info['seg_map_path'].endswith(
        osp.join('SegmentationClassAug', info['img_id'] + '.png'))
    assert 'instances' not in info and 'img_labels' not in info


def test_box_supervision_reads_boxes_and_no_mask(voc_root, synth_metainfo):
    ds = _dataset(voc_root, synth_metainfo, supervision='box',
                  ann_file=AUG_MINUS_TRAIN)
    assert len(ds) == 8
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert 'seg_map_path' not in info  # the GT mask is never a label
        assert info['gt_seg_map_path'].endswith(info['img_id'] + '.png')
        assert info['instances']
        labels = {inst['bbox_label'] for inst in info['instances']}
        assert info['img_labels'] == sorted(labels | {0})
        assert all(1 <= lab <= 5 for lab in labels)


def test_image_label_supervision_hides_boxes(voc_root, synth_metainfo):
    ds = _dataset(voc_root, synth_metainfo, supervision='image_label')
    info = ds.get_data_info(0)
    assert 'instances' not in info and 'seg_map_path' not in info
    assert info['img_labels'][0] == 0 and len(info['img_labels']) >= 2
    with pytest.raises(ValueError, match='expose boxes'):
        _dataset(voc_root, synth_metainfo, supervision='image_label',
                 with_boxes=True)


def test_unlabeled_and_unknown_supervision(voc_root, synth_metainfo):
    info = _dataset(voc_root, synth_metainfo,
                    supervision='unlabeled').get_data_info(0)
    assert {'seg_map_path', 'instances', 'img_labels'}.isdisjoint(info)
    with pytest.raises(ValueError, match='unknown supervision'):
        _dataset(voc_root, synth_metainfo, supervision='boxes')


def _copy_root(voc_root, tmp_path):
    root = str(tmp_path / 'VOC2012')
    shutil.copytree(voc_root, root)
    return root


def test_missing_image_raises_or_skips(voc_root, synth_metainfo, tmp_path):
    root = _copy_root(voc_root, tmp_path)
    ids = open(osp.join(root, 'ImageSets/Segmentation/aug.txt')).read().split()
    missing = osp.join(root, 'JPEGImages', ids[2] + '.jpg')
    os.remove(missing)
    with pytest.raises(AnnotationError) as err:
        _dataset(root, synth_metainfo)
    assert missing in str(err.value) and 'not found' in str(err.value)
    ds = _dataset(root, synth_metainfo, invalid_sample='skip')
    assert len(ds) == 11
    assert ids[2] not in [ds.get_data_info(i)['img_id'] for i in range(11)]


def test_bad_xml_names_the_file(voc_root, synth_metainfo, tmp_path):
    root = _copy_root(voc_root, tmp_path)
    ids = open(osp.join(root, AUG_MINUS_TRAIN)).read().split()
    xml = osp.join(root, 'Annotations', ids[0] + '.xml')
    text = open(xml).read()
    first_name = text.split('<name>')[1].split('</name>')[0]
    open(xml, 'w').write(text.replace(f'<name>{first_name}</name>',
                                      '<name>unicorn</name>', 1))
    with pytest.raises(AnnotationError, match="unknown class name 'unicorn'"):
        _dataset(root, synth_metainfo, supervision='box',
                 ann_file=AUG_MINUS_TRAIN)
    # a class of VOC that this 6-class metainfo does not have is unknown too
    open(xml, 'w').write(text.replace(f'<name>{first_name}</name>',
                                      '<name>cat</name>', 1))
    with pytest.raises(AnnotationError, match=xml):
        _dataset(root, synth_metainfo, supervision='box',
                 ann_file=AUG_MINUS_TRAIN)
    ds = _dataset(root, synth_metainfo, supervision='box',
                  ann_file=AUG_MINUS_TRAIN, ignore_classes=('cat', ))
    assert len(ds) == 8


def test_box_image_without_boxes_is_an_error(voc_root, synth_metainfo,
                                             tmp_path):
    root = _copy_root(voc_root, tmp_path)
    ids = open(osp.join(root, AUG_MINUS_TRAIN)).read().split()
    xml = osp.join(root, 'Annotations', ids[1] + '.xml')
    text = open(xml).read()
    open(xml, 'w').write(text[:text.index('<object>')] + '</annotation>')
    with pytest.raises(AnnotationError, match='has no box'):
        _dataset(root, synth_metainfo, supervision='box',
                 ann_file=AUG_MINUS_TRAIN)
    # ...but for image-label or full supervision it is just background-only
    _dataset(root, synth_metainfo, supervision='full', with_boxes=True,
             ann_file=AUG_MINUS_TRAIN)


def test_pseudo_masks(voc_root, synth_metainfo, tmp_path):
    with pytest.raises(ValueError, match='pseudo_path'):
        _dataset(voc_root, synth_metainfo, supervision='pseudo_mask')
    pseudo = tmp_path / 'pseudo'
    pseudo.mkdir()
    prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug',
                  pseudo_path=str(pseudo))
    with pytest.raises(AnnotationError, match='pseudo_mask mask of image'):
        _dataset(voc_root, synth_metainfo, supervision='pseudo_mask',
                 data_prefix=prefix)
    ids = open(osp.join(voc_root, 'ImageSets/Segmentation/aug.txt')).read()
    for img_id in ids.split():
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(
            pseudo / f'{img_id}.png')
    # (8x8 masks of larger images: without the build-time size check, so
    # that the load-time check is tested; see test_mask_size_*)
    ds = _dataset(voc_root, synth_metainfo, supervision='pseudo_mask',
                  data_prefix=prefix, check_mask_size=False)
    info = ds.get_data_info(0)
    assert info['seg_map_path'] == str(pseudo / f"{info['img_id']}.png")
    assert info['gt_seg_map_path'] != info['seg_map_path']
    # the 8x8 pseudo-masks do not have the image size: loading names the file
    from mmseg_weak.datasets.transforms import LoadVerifiedAnnotations
    results = dict(info, img=np.zeros((64, 80, 3), np.uint8),
                   ori_shape=(64, 80))
    with pytest.raises(AnnotationError,
                       match=rf"{info['img_id']}.png: mask size 8x8 differs"):
        LoadVerifiedAnnotations(num_classes=6)(results)
    # with an XML folder, pseudo-mask images carry the image labels the
    # pseudo-masks were made from
    ds = _dataset(voc_root, synth_metainfo, supervision='pseudo_mask',
                  data_prefix=dict(prefix, ann_path='Annotations'),
                  check_mask_size=False)
    assert ds.get_data_info(0)['img_labels']


def _resize_png(path, size):
    """Rewrite a label PNG at another size (nearest), palette kept."""
    img = Image.open(path)
    img.resize(size, Image.NEAREST).save(path)


@pytest.mark.parametrize('supervision', ['full', 'pseudo_mask'])
def test_mask_size_mismatch_raises_or_skips(voc_root, synth_metainfo,
                                            tmp_path, supervision):
    """A mask / pseudo-mask whose size differs from its image's is found
    when the dataset is built (headers only), not mid-training."""
    root = _copy_root(voc_root, tmp_path)
    ids = open(osp.join(root, 'ImageSets/Segmentation/aug.txt')).read().split()
    prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug')
    if supervision == 'pseudo_mask':
        pseudo = osp.join(root, 'pseudo')
        shutil.copytree(osp.join(root, 'SegmentationClassAug'), pseudo)
        prefix['pseudo_path'] = 'pseudo'
        bad_mask = osp.join(pseudo, ids[3] + '.png')
    else:
        bad_mask = osp.join(root, 'SegmentationClassAug', ids[3] + '.png')
    width, height = Image.open(bad_mask).size
    _resize_png(bad_mask, (width + 3, height))
    image = osp.join(root, 'JPEGImages', ids[3] + '.jpg')

    with pytest.raises(AnnotationError) as err:
        _dataset(root, synth_metainfo, supervision=supervision,
                 data_prefix=prefix)
    msg = str(err.value)
    assert bad_mask in msg and image in msg  # both files named
    assert f'mask size {width + 3}x{height} differs from image size ' \
        f'{width}x{height}' in msg

    ds = _dataset(root, synth_metainfo, supervision=supervision,
                  data_prefix=prefix, invalid_sample='skip')
    kept = [ds.get_data_info(i)['img_id'] for i in range(len(ds))]
    assert len(ds) == len(ids) - 1 and ids[3] not in kept

    # without the build-time check the sample is kept (and the loader
    # raises when it reads it, naming both files)
    ds = _dataset(root, synth_metainfo, supervision=supervision,
                  data_prefix=prefix, check_mask_size=False)
    assert len(ds) == len(ids)


def test_mask_size_check_unreadable_and_exif(voc_root, synth_metainfo,
                                             tmp_path):
    """An unreadable mask is a bad sample too; an EXIF-rotated JPEG counts
    with its displayed size, as cv2 decodes it for LoadImageFromFile."""
    root = _copy_root(voc_root, tmp_path)
    ids = open(osp.join(root, 'ImageSets/Segmentation/aug.txt')).read().split()
    broken = osp.join(root, 'SegmentationClassAug', ids[5] + '.png')
    open(broken, 'wb').write(b'not a png')
    with pytest.raises(AnnotationError, match='not a readable image'):
        _dataset(root, synth_metainfo)
    ds = _dataset(root, synth_metainfo, invalid_sample='skip')
    assert len(ds) == len(ids) - 1

    # a JPEG stored W x H with orientation 6 (90 degrees) is H x W for cv2
    from mmseg_weak.datasets.voc_weak import read_image_size
    jpg = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new('RGB', (40, 30)).save(jpg, exif=exif)
    assert read_image_size(jpg) == (30, 40)
    assert read_image_size(jpg, exif_orientation=True) == (40, 30)
