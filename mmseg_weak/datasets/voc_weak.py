"""PASCAL VOC 2012 (+ SBD aug) where every image carries its own supervision.

The dataset reads the standard ``VOCdevkit/VOC2012`` layout::

    VOC2012
    ├── JPEGImages/<id>.jpg
    ├── SegmentationClass/<id>.png        (1,464 train + 1,449 val masks)
    ├── SegmentationClassAug/<id>.png     (10,582 "trainaug" masks, SBD)
    ├── Annotations/<id>.xml              (boxes, class names)
    └── ImageSets/Segmentation/*.txt      (split lists)

One dataset instance has one supervision type; mixed training (e.g. 1,464
fully labeled + 9,118 box-only images) concatenates two instances with split
lists written by ``tools/dataset_converters/make_splits.py`` and draws batches
with mmdet's ``MultiSourceSampler``.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine.fileio as fileio
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset, PascalVOCDataset
from mmseg.registry import DATASETS
from PIL import Image

from ..utils.choices import check_choice
from ..utils.label_png import voc_palette
from ..utils.supervision import (BOX, FULL, IMAGE_LABEL, PSEUDO_MASK,
                                 UNLABELED, check_supervision)
from .voc_annotation import (AnnotationError, image_labels_from_instances,
                             parse_voc_xml, read_split)

#: data_info keys that hold a label source, by supervision type
_MASK_PREFIX = {FULL: 'seg_map_path', PSEUDO_MASK: 'pseudo_path'}


def _no_label_map(new_classes=None) -> None:
    """``get_label_map`` of a dataset with ``own_classes``: no remapping."""
    return None


#: EXIF orientations that swap width and height (90/270 degree rotations)
_EXIF_TRANSPOSED = (5, 6, 7, 8)


def read_image_size(path: str,
                    backend_args: Optional[dict] = None,
                    exif_orientation: bool = False) -> Tuple[int, int]:
    """``(height, width)`` of an image file, from its header only.

    PIL reads the header and decodes no pixel (a few KB of a JPEG/PNG).

    Args:
        path: The file.
        backend_args: mmengine file backend arguments.
        exif_orientation: Apply the EXIF orientation (a 90/270 degree
            rotation swaps height and width) as ``LoadImageFromFile``'s
            default cv2 decoding does; masks are decoded as stored.

    Returns:
        tuple: ``(height, width)``.

    Raises:
        AnnotationError: When the file is not a readable image.
    """
    try:
        with fileio.get_local_path(path, backend_args=backend_args) as local:
            with Image.open(local) as img:
                width, height = img.size
                orientation = img.getexif().get(0x0112, 1) \
                    if exif_orientation else 1
    except (OSError, SyntaxError, ValueError) as e:
        raise AnnotationError(f'{path}: not a readable image ({e})') from e
    if orientation in _EXIF_TRANSPOSED:
        width, height = height, width
    return height, width


@DATASETS.register_module()
class WeakVOCDataset(BaseSegDataset):
    """PASCAL VOC 2012 aug with per-image supervision (full mask, boxes,
    image-level labels, pseudo-mask or nothing).

    Each data info holds ``img_path``, ``supervision``, ``num_classes`` (the
    number of ``metainfo['classes']``, read by the transforms whose
    ``num_classes`` is left ``None``) and, depending on the supervision:

    - ``'full'``: ``seg_map_path`` (the ground-truth mask);
    - ``'box'``: ``instances`` (``bbox``, ``bbox_label``, ``difficult``) and
      ``img_labels`` read from ``Annotations/<id>.xml``;
    - ``'image_label'``: ``img_labels`` (from the XML, or from the mask at
      ``gt_seg_map_path`` by ``LoadImageLabels(source='gt_mask')``); boxes are
      *not* exposed;
    - ``'pseudo_mask'``: ``seg_map_path`` in ``data_prefix['pseudo_path']``
      and, when ``ann_path`` is configured, the ``img_labels`` the
      pseudo-masks were made from (XML);
    - ``'unlabeled'``: nothing.

    ``gt_seg_map_path`` always points at the ground-truth mask (when a mask
    folder is configured) for evaluation and pseudo-label analysis; training
    transforms never load it as a label (``LoadVerifiedAnnotations`` reads
    ``seg_map_path`` only).

    Args:
        ann_file (str): Split list (one id per line), relative to
            ``data_root``.
        supervision (str): One of ``'full'``, ``'box'``, ``'image_label'``,
            ``'pseudo_mask'``, ``'unlabeled'``.
        with_boxes (bool, optional): Also read boxes for other supervisions
            (e.g. fully labeled images whose boxes feed a box encoder).
            Defaults to ``supervision == 'box'``. Not allowed with
            ``'image_label'``/``'unlabeled'`` (that would leak labels).
        image_label_source (str): ``'xml'`` (default) or ``'gt_mask'``: where
            ``'image_label'`` samples take their labels from.
        invalid_sample (str): ``'raise'`` (default) stops at the first bad
            sample with an error naming the file and the problem; ``'skip'``
            drops it, logs a warning per file and a summary. Bad samples are
            found when the dataset is built: a missing image / mask / XML,
            an XML error, a box-supervised image without box, and (with
            ``check_mask_size``) a mask or pseudo-mask whose size differs
            from its image's, or an unreadable image or mask.
        check_mask_size (bool): Compare the size of each label mask
            (``'full'`` masks, pseudo-masks) with its image's when the
            dataset is built, reading only the files' headers (PIL; about
            0.1 ms per file on a local disk). Without it a wrong size is
            only found by ``LoadVerifiedAnnotations`` during training, which
            then stops. Defaults to True.
        ignore_classes (Sequence[str]): XML class names skipped on purpose.
        own_classes (bool): ``metainfo['classes']`` are the dataset's own
            classes, in the order of their ids: mask value ``i`` and the XML
            name ``classes[i]`` are class ``i`` (a VOC-format dataset of your
            own; ``'background'`` first, as in VOC). Nothing is remapped
            (``label_map`` is None), names need not be VOC's, and a palette
            of another length than the classes is replaced by the VOC colour
            map of that length. Default False: MMSeg's behaviour, where
            ``metainfo['classes']`` selects a subset of VOC's 21 classes and
            masks hold VOC ids (mapped to the subset, other ids to 255).
        data_prefix (dict, optional): Folders: ``img_path``,
            ``seg_map_path`` (ground truth), ``ann_path`` (XML) and, for
            pseudo-masks, ``pseudo_path``. Defaults to
            :attr:`DEFAULT_DATA_PREFIX` (VOC's ``JPEGImages``,
            ``SegmentationClassAug``, ``Annotations``).
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """
    METAINFO = PascalVOCDataset.METAINFO
    #: ``data_prefix`` when none is given: the folders of the layout.
    DEFAULT_DATA_PREFIX: Dict[str, str] = dict(
        img_path='JPEGImages',
        seg_map_path='SegmentationClassAug',
        ann_path='Annotations')

    def __init__(self,
                 ann_file: str,
                 supervision: str = FULL,
                 with_boxes: Optional[bool] = None,
                 image_label_source: str = 'xml',
                 invalid_sample: str = 'raise',
                 check_mask_size: bool = True,
                 ignore_classes: Sequence[str] = (),
                 own_classes: bool = False,
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        self.supervision = check_supervision(supervision)
        if with_boxes is None:
            with_boxes = supervision == BOX
        if supervision == BOX and not with_boxes:
            raise ValueError("supervision='box' needs with_boxes=True")
        if with_boxes and supervision in (IMAGE_LABEL, UNLABELED):
            raise ValueError(f'with_boxes=True would expose boxes to '
                             f'{supervision!r} images')
        check_choice('image_label_source', image_label_source,
                     ('xml', 'gt_mask'))
        check_choice('invalid_sample', invalid_sample, ('raise', 'skip'))
        self.with_boxes = with_boxes
        self.image_label_source = image_label_source
        self.invalid_sample = invalid_sample
        self.check_mask_size = check_mask_size
        self.ignore_classes = tuple(ignore_classes)
        self.own_classes = bool(own_classes)
        if self.own_classes:
            # BaseSegDataset.__init__ derives label_map from the class's
            # METAINFO (VOC ids by name): none for classes of one's own
            self.get_label_map = _no_label_map
        if data_prefix is None:
            data_prefix = dict(self.DEFAULT_DATA_PREFIX)
        if supervision == PSEUDO_MASK and not data_prefix.get('pseudo_path'):
            raise ValueError("supervision='pseudo_mask' needs "
                             "data_prefix['pseudo_path'] (the pseudo-mask "
                             'folder)')
        try:
            super().__init__(
                ann_file=ann_file,
                img_suffix=img_suffix,
                seg_map_suffix=seg_map_suffix,
                data_prefix=data_prefix,
                **kwargs)
        finally:
            self.__dict__.pop('get_label_map', None)

    def _update_palette(self) -> list:
        """MMSeg's palette update; with ``own_classes`` a palette of another
        length than the classes (e.g. VOC's 21 colours from ``METAINFO``)
        becomes the VOC colour map of the classes' length."""
        if self.own_classes:
            metainfo = self.metainfo
            palette = metainfo.get('palette') or []
            classes = metainfo.get('classes') or []
            if len(palette) != len(classes):
                return [list(rgb) for rgb in voc_palette(len(classes))]
            return palette
        return super()._update_palette()

    @property
    def num_classes(self) -> int:
        """Number of classes (``metainfo['classes']``), background
        included."""
        return len(self.metainfo['classes'])

    @property
    def _reads_annotation(self) -> bool:
        if self.with_boxes:
            return True
        if self.image_label_source != 'xml':
            return False
        if self.supervision == PSEUDO_MASK:
            # the image labels the pseudo-masks were made from, when the
            # XML folder is configured
            return bool(self.data_prefix.get('ann_path'))
        return self.supervision == IMAGE_LABEL

    @property
    def background_index(self) -> Optional[int]:
        """Index of the ``'background'`` class, ``None`` if there is none."""
        classes = self.metainfo['classes']
        return classes.index('background') if 'background' in classes else None

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)

    def _load_one(self, img_id: str) -> Dict:
        """Build and validate the data info of one image id."""
        prefix = self.data_prefix
        info: Dict = dict(
            img_path=osp.join(prefix['img_path'], img_id + self.img_suffix),
            img_id=img_id,
            supervision=self.supervision,
            num_classes=self.num_classes,
            label_map=self.label_map,
            reduce_zero_label=self.reduce_zero_label,
            seg_fields=[])
        if not self._exists(info['img_path']):
            raise AnnotationError(f"{info['img_path']}: image listed in "
                                  f'{self.ann_file} not found')
        if prefix.get('seg_map_path'):
            info['gt_seg_map_path'] = osp.join(
                prefix['seg_map_path'], img_id + self.seg_map_suffix)
        mask_key = _MASK_PREFIX.get(self.supervision)
        if mask_key is not None:
            if not prefix.get(mask_key):
                raise ValueError(f"supervision {self.supervision!r} needs "
                                 f"data_prefix['{mask_key}']")
            path = osp.join(prefix[mask_key], img_id + self.seg_map_suffix)
            if not self._exists(path):
                raise AnnotationError(
                    f'{path}: {self.supervision} mask of image {img_id} '
                    'not found')
            info['seg_map_path'] = path
            if self.check_mask_size:
                self._check_mask_size(info['img_path'], path)
        if self._reads_annotation:
            self._add_annotation(img_id, info)
        return info

    def _check_mask_size(self, img_path: str, mask_path: str) -> None:
        """Raise :class:`AnnotationError` naming both files when the label
        mask and the image differ in size (headers only)."""
        mask_h, mask_w = read_image_size(mask_path, self.backend_args)
        img_h, img_w = read_image_size(
            img_path, self.backend_args, exif_orientation=True)
        if (mask_h, mask_w) != (img_h, img_w):
            raise AnnotationError(
                f'{mask_path}: {self.supervision} mask size {mask_w}x{mask_h} '
                f'differs from image size {img_w}x{img_h} ({img_path})')

    def _add_annotation(self, img_id: str, info: Dict) -> None:
        """Add boxes / image labels of ``img_id`` from its VOC XML file."""
        if not self.data_prefix.get('ann_path'):
            raise ValueError(
                "reading boxes/image labels needs data_prefix['ann_path']")
        xml_path = osp.join(self.data_prefix['ann_path'], img_id + '.xml')
        ann = parse_voc_xml(xml_path, self.metainfo['classes'],
                            self.ignore_classes)
        if self.supervision == BOX and not ann['instances']:
            raise AnnotationError(
                f'{xml_path}: box-supervised image {img_id} has no box')
        info['ann_path'] = xml_path
        info['ann_shape'] = (ann['height'], ann['width'])
        info['img_labels'] = image_labels_from_instances(
            ann['instances'], self.background_index)
        if self.with_boxes:
            info['instances'] = ann['instances']

    def split_ids(self) -> List[str]:
        """Image ids of the split (the lines of ``ann_file``)."""
        return read_split(self.ann_file)

    def load_data_list(self) -> List[dict]:
        """Read the split list and build one validated data info per id."""
        data_list, skipped = [], []
        for img_id in self.split_ids():
            try:
                data_list.append(self._load_one(img_id))
            except AnnotationError as e:
                if self.invalid_sample == 'raise':
                    raise
                skipped.append(img_id)
                print_log(f'skipping {img_id}: {e}', logger='current',
                          level=30)
        if skipped:
            print_log(
                f'{type(self).__name__}({self.ann_file}, '
                f'{self.supervision}): skipped {len(skipped)} invalid '
                f'sample(s), kept {len(data_list)}',
                logger='current',
                level=30)
        if not data_list:
            raise AnnotationError(f'{self.ann_file}: no valid sample')
        return data_list
