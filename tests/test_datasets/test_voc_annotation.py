import pytest

from mmseg_weak.datasets.voc_annotation import (AnnotationError,
                                                image_labels_from_instances,
                                                parse_voc_xml, read_split)

CLASSES = ('background', 'aeroplane', 'bicycle', 'bird')


def _xml(tmp_path, objects: str, size='<width>50</width><height>40</height>'):
    path = tmp_path / 'a.xml'
    path.write_text(f'<annotation><filename>a.jpg</filename><size>{size}'
                    f'<depth>3</depth></size>{objects}</annotation>')
    return str(path)


def _obj(name, box, difficult=0):
    x1, y1, x2, y2 = box
    return (f'<object><name>{name}</name><difficult>{difficult}</difficult>'
            f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>'
            f'<ymax>{y2}</ymax></bndbox></object>')


def test_parse_converts_one_based_inclusive_boxes(tmp_path):
    path = _xml(tmp_path, _obj('bird', (1, 2, 50, 40), 1) +
                _obj('aeroplane', (10, 10, 10, 12)))
    ann = parse_voc_xml(path, CLASSES)
    assert (ann['height'], ann['width']) == (40, 50)
    assert ann['instances'] == [
        dict(bbox=[0, 1, 50, 40], bbox_label=3, difficult=True),
        dict(bbox=[9, 9, 10, 12], bbox_label=1, difficult=False),
    ]
    assert image_labels_from_instances(ann['instances']) == [0, 1, 3]
    assert image_labels_from_instances(ann['instances'], None) == [1, 3]


@pytest.mark.parametrize('objects,size,message', [
    (_obj('cat', (1, 1, 5, 5)), None, "unknown class name 'cat'"),
    (_obj('bird', (1, 1, 51, 5)), None, 'outside the 50x40 image'),
    (_obj('bird', (0, 1, 5, 5)), None, 'outside the 50x40 image'),
    (_obj('bird', (6, 1, 5, 5)), None, 'zero or negative area'),
    (_obj('bird', (1, 1, 'x', 5)), None, 'is not a number'),
    ('<object><name>bird</name></object>', None, 'has no <bndbox>'),
    ('', '<width>50</width>', 'has no <height>'),
])
def test_parse_errors_name_file_and_problem(tmp_path, objects, size, message):
    path = _xml(tmp_path, objects, size) if size else _xml(tmp_path, objects)
    with pytest.raises(AnnotationError) as err:
        parse_voc_xml(path, CLASSES)
    assert path in str(err.value) and message in str(err.value)


def test_parse_malformed_and_missing(tmp_path):
    bad = tmp_path / 'bad.xml'
    bad.write_text('<annotation><size>')
    with pytest.raises(AnnotationError, match='malformed XML'):
        parse_voc_xml(str(bad), CLASSES)
    with pytest.raises(AnnotationError, match='not found'):
        parse_voc_xml(str(tmp_path / 'none.xml'), CLASSES)


def test_ignore_classes_are_skipped_not_errors(tmp_path):
    path = _xml(tmp_path,
                _obj('cat', (1, 1, 5, 5)) + _obj('bird', (1, 1, 5, 5)))
    ann = parse_voc_xml(path, CLASSES, ignore_classes=('cat', ))
    assert [i['bbox_label'] for i in ann['instances']] == [3]


def test_read_split(tmp_path):
    path = tmp_path / 's.txt'
    path.write_text('a\n\nb extra\n')
    assert read_split(str(path)) == ['a', 'b']
    path.write_text('a\nb\na\n')
    with pytest.raises(AnnotationError, match="'a' listed twice"):
        read_split(str(path))
    path.write_text('\n')
    with pytest.raises(AnnotationError, match='lists no image'):
        read_split(str(path))
