"""Parsing of PASCAL VOC ``Annotations/*.xml`` files into validated boxes.

Every problem raises :class:`AnnotationError` whose message names the file and
the problem, so that a bad annotation is never turned into a silent wrong
label.
"""
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence


class AnnotationError(ValueError):
    """A weak-label annotation file is missing, malformed or inconsistent."""


def _text(node: ET.Element, tag: str, path: str) -> str:
    child = node.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise AnnotationError(f'{path}: <{node.tag}> has no <{tag}>')
    return child.text.strip()


def _number(node: ET.Element, tag: str, path: str) -> float:
    raw = _text(node, tag, path)
    try:
        return float(raw)
    except ValueError:
        raise AnnotationError(
            f'{path}: <{tag}> is not a number: {raw!r}') from None


def parse_voc_xml(path: str,
                  classes: Sequence[str],
                  ignore_classes: Sequence[str] = ()) -> Dict:
    """Read one VOC XML file.

    VOC boxes are 1-based inclusive pixel indices; they are returned in
    mmcv/mmdet's continuous convention ``(xmin - 1, ymin - 1, xmax, ymax)``.

    Args:
        path (str): The XML file.
        classes (Sequence[str]): Class names; a name's index is its label.
        ignore_classes (Sequence[str]): Names skipped on purpose (e.g. classes
            not used by a dataset variant). Any other unknown name is an error.

    Returns:
        dict: ``height``, ``width`` (from ``<size>``) and ``instances``, a list
        of ``dict(bbox=[x1, y1, x2, y2], bbox_label=int, difficult=bool)``.

    Raises:
        AnnotationError: missing file, malformed XML, missing fields, unknown
            class name, a box outside the image or of zero/negative area.
    """
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise AnnotationError(f'{path}: annotation file not found') from None
    except ET.ParseError as e:
        raise AnnotationError(f'{path}: malformed XML ({e})') from None
    size = root.find('size')
    if size is None:
        raise AnnotationError(f'{path}: no <size> element')
    width, height = _number(size, 'width', path), _number(size, 'height', path)
    if width < 1 or height < 1:
        raise AnnotationError(f'{path}: invalid image size {width}x{height}')
    instances: List[Dict] = []
    for i, obj in enumerate(root.findall('object')):
        name = _text(obj, 'name', path)
        if name in ignore_classes:
            continue
        if name not in classes:
            raise AnnotationError(
                f'{path}: object {i} has unknown class name {name!r} '
                f'(known: {", ".join(classes)})')
        box = obj.find('bndbox')
        if box is None:
            raise AnnotationError(
                f'{path}: object {i} ({name}) has no <bndbox>')
        xmin, ymin, xmax, ymax = (
            _number(box, t, path) for t in ('xmin', 'ymin', 'xmax', 'ymax'))
        if xmax < xmin or ymax < ymin:
            raise AnnotationError(
                f'{path}: object {i} ({name}) has zero or negative area: '
                f'xmin={xmin:g} ymin={ymin:g} xmax={xmax:g} ymax={ymax:g}')
        if xmin < 1 or ymin < 1 or xmax > width or ymax > height:
            raise AnnotationError(
                f'{path}: object {i} ({name}) box ({xmin:g}, {ymin:g}, '
                f'{xmax:g}, {ymax:g}) lies outside the {width:g}x{height:g} '
                'image (VOC boxes are 1-based inclusive)')
        difficult = obj.find('difficult')
        instances.append(
            dict(
                bbox=[xmin - 1, ymin - 1, xmax, ymax],
                bbox_label=classes.index(name),
                difficult=difficult is not None and difficult.text is not None
                and difficult.text.strip() == '1'))
    return dict(height=int(height), width=int(width), instances=instances)


def image_labels_from_instances(instances: Sequence[Dict],
                                background_index: Optional[int] = 0
                                ) -> List[int]:
    """Sorted class ids present in an image's boxes (plus background)."""
    labels = {inst['bbox_label'] for inst in instances}
    if background_index is not None:
        labels.add(background_index)
    return sorted(labels)


def read_split(path: str) -> List[str]:
    """Read a split list (one image id per line; blank lines skipped).

    Raises:
        AnnotationError: the file is missing, empty or lists an id twice.
    """
    try:
        with open(path, encoding='utf-8') as f:
            ids = [line.split()[0] for line in f if line.strip()]
    except FileNotFoundError:
        raise AnnotationError(f'{path}: split file not found') from None
    if not ids:
        raise AnnotationError(f'{path}: split file lists no image')
    seen: Dict[str, int] = {}
    for lineno, img_id in enumerate(ids, 1):
        if img_id in seen:
            raise AnnotationError(
                f'{path}: image id {img_id!r} listed twice (entries '
                f'{seen[img_id]} and {lineno})')
        seen[img_id] = lineno
    return ids
