"""Point any config at a VOC-format dataset of your own: a data root and a
class list, nothing else.

:func:`set_dataset` is what ``tools/train.py`` / ``tools/test.py`` run for
``--data-root DIR --classes background a b ...``. It walks the whole config:

- every dataset of the ``WeakVOCDataset`` family (in the train / val / test
  loaders, inside ``ConcatDataset`` / ``RepeatDataset`` wrappers, and in
  top-level helper variables) gets ``data_root`` and
  ``metainfo=dict(classes=..., palette=...)`` with ``own_classes=True``:
  mask value ``i`` and the XML name ``classes[i]`` are class ``i`` (nothing
  is remapped to VOC's ids);
- every ``num_classes`` key, at any depth (decode / auxiliary / weak heads,
  the self-correction ``primary`` head, the box encoder, pipeline transforms,
  hook pipelines, the ``num_classes`` variable of the base files), becomes
  ``len(classes)``;
- the self-correction ancillary model: a config *path* in
  ``model.ancillary.config`` is loaded and replaced by its ``model`` dict
  with the new class count. Its checkpoint (``model.ancillary.checkpoint``)
  must then be an ancillary model trained on the same classes (train the
  ancillary config with the same two options first).

The palette is the VOC colour map cut to (or extended to) the number of
classes.
"""
import os
import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from .label_png import voc_palette

__all__ = ['set_dataset', 'apply_dataset_options', 'check_classes']

#: Keys of a data_prefix that name folders of the dataset.
_PREFIX_KEYS = ('img_path', 'seg_map_path', 'ann_path', 'pseudo_path')


def check_classes(classes: Sequence[str]) -> Tuple[str, ...]:
    """Validate a class list of a VOC-format dataset.

    Args:
        classes: Class names in the order of their ids, ``'background'``
            first (class 0, as in VOC).

    Returns:
        tuple[str]: The classes.

    Raises:
        ValueError: Fewer than 2 classes, duplicates, no ``'background'``
            first, or more than 255 classes (mask value 255 means ignore).
    """
    if isinstance(classes, str):
        raise ValueError('classes must be a list of names, got the string '
                         f'{classes!r}')
    classes = tuple(str(c) for c in classes)
    if len(classes) < 2:
        raise ValueError('classes: need background and at least one class, '
                         f'got {classes}')
    dup = sorted({c for c in classes if classes.count(c) > 1})
    if dup:
        raise ValueError(f'classes: {dup} listed twice in {classes}')
    if classes[0] != 'background':
        raise ValueError(
            "classes must start with 'background' (class 0, as in VOC: the "
            f'methods take class 0 as the background), got {classes}')
    if len(classes) > 255:
        raise ValueError(f'{len(classes)} classes: at most 255 (mask value '
                         '255 means ignore)')
    return classes


def _type_name(node: dict) -> str:
    t = node.get('type')
    return t if isinstance(t, str) else getattr(t, '__name__', repr(t))


def _dataset_class(node: Any) -> Optional[type]:
    """The registered class of a dataset config dict, else ``None``."""
    if not isinstance(node, dict) or 'type' not in node:
        return None
    t = node['type']
    if isinstance(t, type):
        return t
    if not isinstance(t, str):
        return None
    from mmseg.registry import DATASETS
    try:
        return DATASETS.get(t)
    except KeyError:  # an unknown scope prefix
        return None


def _walk_datasets(node: Any, path: str, found: List[Tuple[str, dict,
                                                           type]]) -> None:
    """Collect ``(path, config, class)`` of the leaf datasets under
    ``node`` (wrappers are walked through: any dict is)."""
    from mmengine.dataset import BaseDataset
    if isinstance(node, dict):
        cls = _dataset_class(node)
        if cls is not None and isinstance(cls, type) and issubclass(
                cls, BaseDataset):
            found.append((path, node, cls))
            return
        for key, value in node.items():
            _walk_datasets(value, f'{path}.{key}' if path else key, found)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _walk_datasets(value, f'{path}[{i}]', found)


def _find_num_classes(node: Any, path: str,
                      found: List[Tuple[str, dict, str]]) -> None:
    """Collect ``(path, owner, type name)`` of every integer ``num_classes``
    under ``node`` (``None`` values, which take the dataset's, are left).
    A node shared by several paths (a pipeline referenced twice) is listed
    under each."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f'{path}.{key}' if path else key
            if key == 'num_classes' and isinstance(value, int) and \
                    not isinstance(value, bool):
                found.append((sub, node, _type_name(node)
                              if 'type' in node else ''))
            else:
                _find_num_classes(value, sub, found)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _find_num_classes(value, f'{path}[{i}]', found)


def _set_ancillary(cfg: Config, num_classes: int) -> List[str]:
    """Replace a config path in ``model.ancillary.config`` by its model dict
    (its ``num_classes`` are set by the walk over ``model`` afterwards)."""
    model = cfg.get('model') or {}
    ancillary = model.get('ancillary') if isinstance(model, dict) else None
    if not isinstance(ancillary, dict):
        return []
    lines = []
    config = ancillary.get('config')
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(
                f'{config}: ancillary config (model.ancillary.config) not '
                f'found from {os.getcwd()}')
        ancillary['config'] = Config.fromfile(config).model
        lines.append(f'model.ancillary.config: {config} -> its model dict '
                     f'with num_classes={num_classes}')
    checkpoint = ancillary.get('checkpoint')
    if checkpoint is not None:
        lines.append(
            f'NOTE model.ancillary.checkpoint={checkpoint} must be an '
            f'ancillary model trained on these {num_classes} classes (train '
            'the ancillary config with the same --data-root/--classes)')
    return lines


def set_dataset(cfg: Config,
                data_root: Optional[str] = None,
                classes: Optional[Sequence[str]] = None) -> List[str]:
    """Point a config at a VOC-format dataset of your own, in place.

    Args:
        cfg: The full config (e.g. ``Config.fromfile(...)``).
        data_root: The dataset folder (the ``VOC2012`` level: ``JPEGImages``,
            ``SegmentationClass[Aug]``, ``Annotations``, ``ImageSets``).
            ``None`` keeps each dataset's.
        classes: Class names in the order of their ids, ``'background'``
            first; mask value ``i`` (255 = ignore) and the XML name
            ``classes[i]`` are class ``i``. ``None`` keeps the config's
            classes and class counts.

    Returns:
        list[str]: One line per change (and notes about checkpoints that
        must match the new classes).

    Raises:
        ValueError: Neither argument given, a bad class list, or a dataset
            whose classes cannot be changed (not of the ``WeakVOCDataset``
            family, or ``WeakCityscapesDataset``'s fixed classes).
        FileNotFoundError: The ancillary config path does not exist.
    """
    if data_root is None and classes is None:
        raise ValueError('set_dataset: give data_root and/or classes')
    from ..datasets import WeakVOCDataset
    if classes is not None:
        classes = check_classes(classes)
    num_classes = None if classes is None else len(classes)
    lines: List[str] = []

    datasets: List[Tuple[str, dict, type]] = []
    for key, value in cfg.items():
        if key != 'model':
            _walk_datasets(value, key, datasets)
    if not datasets:
        raise ValueError('set_dataset: the config has no dataset')
    for path, node, cls in datasets:
        if classes is not None and (
                not issubclass(cls, WeakVOCDataset)
                or getattr(cls, 'TRAIN_ID_MAP', None) is not None):
            raise ValueError(
                f'set_dataset: {path} is a {cls.__name__}, whose classes '
                'cannot be set: --data-root/--classes take a VOC-format '
                'dataset (configs with WeakVOCDataset)')
        changes = []
        if data_root is not None:
            node['data_root'] = data_root
            changes.append(f'data_root={data_root}')
        if classes is not None:
            node['metainfo'] = dict(
                classes=classes,
                palette=[list(c) for c in voc_palette(num_classes)])
            node['own_classes'] = True
            changes.append(f'classes={classes} (own ids)')
        lines.append(f'{path} ({cls.__name__}): ' + ', '.join(changes))

    # the variables of the base files, for a consistent dumped config
    if data_root is not None and isinstance(cfg.get('data_root'), str):
        cfg.data_root = data_root
    if classes is not None and isinstance(cfg.get('metainfo'), dict):
        cfg.metainfo = dict(
            classes=classes,
            palette=[list(c) for c in voc_palette(num_classes)])
    if classes is None:
        return lines

    lines += _set_ancillary(cfg, num_classes)
    found: List[Tuple[str, dict, str]] = []
    for key, value in cfg.items():
        if key == 'num_classes' and isinstance(value, int):
            if value != num_classes:
                lines.append(f'num_classes: {value} -> {num_classes}')
            cfg.num_classes = num_classes
        else:
            _find_num_classes(value, key, found)
    olds = [owner['num_classes'] for _, owner, _ in found]
    for (path, owner, type_name), old in zip(found, olds):
        owner['num_classes'] = num_classes
        if old != num_classes:
            where = f' ({type_name})' if type_name else ''
            lines.append(f'{path}{where}: {old} -> {num_classes}')
    if cfg.get('load_from'):
        lines.append(f'NOTE load_from={cfg.load_from} must be a model '
                     f'trained on these {num_classes} classes')
    return lines


def _missing_files(cfg: Config) -> List[str]:
    """Split lists and folders the config's datasets would read but that do
    not exist."""
    datasets: List[Tuple[str, dict, type]] = []
    for key, value in cfg.items():
        if key != 'model':
            _walk_datasets(value, key, datasets)
    missing = []
    for _, node, _ in datasets:
        root = node.get('data_root') or ''
        paths = [node.get('ann_file')] + [
            (node.get('data_prefix') or {}).get(k) for k in _PREFIX_KEYS
        ]
        for rel in paths:
            if rel and isinstance(rel, str):
                full = osp.join(root, rel)
                if not osp.exists(full) and full not in missing:
                    missing.append(full)
    return missing


def apply_dataset_options(cfg: Config,
                          data_root: Optional[str] = None,
                          classes: Optional[Sequence[str]] = None,
                          logger: str = 'current') -> List[str]:
    """:func:`set_dataset`, logged (on rank 0): what the tools run for
    ``--data-root`` / ``--classes``. Split lists or folders the datasets
    would read but that do not exist are logged as a warning.

    Returns:
        list[str]: The lines of :func:`set_dataset`.
    """
    lines = set_dataset(cfg, data_root, classes)
    if int(os.environ.get('RANK', '0')) != 0:
        return lines
    what = ', '.join(
        ([f'--data-root {data_root}'] if data_root is not None else []) +
        ([f"--classes {' '.join(classes)}"] if classes is not None else []))
    print_log(f'{what}: {len(lines)} change(s)', logger=logger)
    for line in lines:
        print_log(f'  {line}', logger=logger)
    missing = _missing_files(cfg)
    if missing:
        print_log(
            'the datasets would read these missing files/folders: ' +
            ', '.join(missing) + ' (split lists: '
            'tools/dataset_converters/make_splits.py; see docs/en/data.md '
            '"Your own VOC-format dataset")',
            logger=logger,
            level=30)
    return lines
