"""Config helpers of the tests (no fixtures: those are in conftest.py).

``tiny_config`` shrinks a config to a few iterations on tiny crops of the
generated datasets; ``small_backbone`` swaps a large ResNet for a narrow
ResNet-18 and adapts the channels of everything it feeds (heads, box
encoder, projector), so full-size configs train in seconds.

    from config_utils import tiny_config
"""
import os.path as osp
from typing import List, Sequence, Union

from mmengine.config import Config

__all__ = [
    'tiny_config', 'small_backbone', 'shrink_scales', 'leaf_datasets',
    'cache_external_config_index'
]

#: split lists of the generated datasets, by dataset type and supervision:
#: they stand in for the real-size lists (labeled_200.txt, ...)
_TINY_SPLITS = dict(
    WeakVOCDataset=dict(
        full='ImageSets/Segmentation/train.txt',
        pseudo_mask='ImageSets/Segmentation/aug.txt',
        image_label='ImageSets/Segmentation/aug.txt',
        box='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
        unlabeled='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt'),
    WeakCityscapesDataset=dict(
        full='train.txt', box='train.txt', unlabeled='train.txt'),
    SemiCityscapesDataset=dict(full='train.txt', unlabeled='train.txt'))

#: backbone types ``small_backbone`` knows how to replace
_RESNETS = ('ResNet', 'ResNetV1c', 'ResNetV1d')


def header_comment(path: str) -> str:
    """The ``#`` comment block a config file opens with (its description:
    paper, table row, what differs), without the ``#`` marks."""
    lines = []
    with open(path) as f:
        for line in f:
            if not line.startswith('#'):
                break
            lines.append(line[1:].strip())
    return '\n'.join(lines).strip()


def shrink_scales(node, size: int) -> None:
    """Make every crop / resize / pad scale in a pipeline config tiny:
    ``crop_size``, ``scale`` and ``size`` (``Pad``) become ``(size, size)``,
    a ``long_side_range`` / ``short_side_range`` in pixels (e.g.
    ``RandomLongSideResize``) ``(size, 2 * size)``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(value, (tuple, list)):
                shrink_scales(value, size)
            elif key in ('crop_size', 'scale', 'size'):
                node[key] = (size, size)
            elif key in ('long_side_range', 'short_side_range'):
                node[key] = (size, 2 * size)
            else:
                shrink_scales(value, size)
    elif isinstance(node, list):
        for item in node:
            shrink_scales(item, size)


def leaf_datasets(ds: dict) -> List[dict]:
    """The dataset configs inside ``ds`` (itself, or the members of a
    ``ConcatDataset``)."""
    return list(ds.datasets) if ds.type == 'ConcatDataset' else [ds]


def _point_at_generated(ds: dict, voc_root: str,
                        cityscapes_root: str = None) -> None:
    """Point one dataset config at the generated data: its root, a split
    list of the same supervision where the config's does not exist there,
    the ground truth where its pseudo-mask folder does not exist."""
    city = 'Cityscapes' in ds.type
    ds.data_root = cityscapes_root if city else voc_root
    if ds.get('ann_file') and not osp.exists(
            osp.join(ds.data_root, ds.ann_file)):
        # real-size split lists (labeled_200.txt, ...) do not exist for the
        # tiny dataset: same supervision, its own lists
        ds.ann_file = _TINY_SPLITS[ds.type][ds.get('supervision', 'full')]
    pseudo = ds.get('data_prefix', {}).get('pseudo_path')
    if pseudo and not osp.isdir(osp.join(ds.data_root, pseudo)):
        # pseudo-masks are made by a tool from CAMs: the generated ground
        # truth stands in for them here
        ds.data_prefix.pseudo_path = 'SegmentationClassAug'


def cache_external_config_index() -> None:
    """Make mmengine read an installed package's metafiles once.

    For every ``mmseg::`` base of a config, ``Config.fromfile`` parses all
    of mmseg's ``metafile.yaml`` files (mmengine 0.10's
    ``_get_cfg_metainfo``; ~1 s each time on the 2-core machine) only to
    find that a ``_base_`` file has no entry. The index is the same for the
    whole session: build it once per package, same results and errors.
    """
    from mmengine.config import utils
    if getattr(utils._get_cfg_metainfo, 'cached_index', False):
        return
    original = utils._get_cfg_metainfo
    indexes = {}

    def _get_cfg_metainfo(package_path: str, cfg_path: str) -> dict:
        if package_path not in indexes:
            meta_index = utils.load(
                osp.join(package_path, '.mim', 'model-index.yml'))
            cfg_dict = {}
            for meta_path in meta_index['Import']:
                cfg_meta = utils.load(
                    osp.join(package_path, '.mim', meta_path))
                for model_cfg in cfg_meta['Models']:
                    if 'Config' in model_cfg:
                        cfg_dict.setdefault(
                            model_cfg['Config'].partition('/')[-1],
                            model_cfg)
            indexes[package_path] = cfg_dict
        cfg_dict = indexes[package_path]
        if cfg_path not in cfg_dict:
            raise ValueError(f'Expected configs: {cfg_dict.keys()}, but got '
                             f'{cfg_path}')
        return cfg_dict[cfg_path]

    _get_cfg_metainfo.cached_index = True
    _get_cfg_metainfo.original = original
    utils._get_cfg_metainfo = _get_cfg_metainfo


# ----------------------------------------------------------------------
# small backbone
# ----------------------------------------------------------------------
def _stage_widths(backbone: dict) -> List[int]:
    """Output channels of each ResNet stage of a backbone config."""
    from mmseg.models.backbones import ResNet
    block = ResNet.arch_settings[backbone['depth']][0]
    base = backbone.get('base_channels', 64)
    return [
        base * block.expansion * 2**i
        for i in range(backbone.get('num_stages', 4))
    ]


def small_backbone(model: dict, base_channels: int = 16,
                   depth: int = 18) -> bool:
    """Replace the ResNet of a segmentor config by a ResNet-``depth`` of
    ``base_channels`` (stage widths ``base_channels * 2**i``), in place.

    Strides, dilations, out_indices, norm and style stay the config's. What
    the backbone feeds follows generically: every ``in_channels`` next to an
    ``in_index`` (decode / auxiliary heads, box encoder) becomes the new
    width of that stage, ``c1_in_channels`` (DeepLabV3+'s stride-4 input)
    the new stage-0 width; every other ``*channels`` (head widths,
    ``c1_channels``, ``correction_channels``, the projector's / weak head's
    ``in_channels`` on the decoder features) is scaled by new / old width of
    the last stage (at least 8), so what one head outputs and the next one
    reads stay equal. A nested ``model.ancillary.config`` (a config file) is
    loaded and shrunk the same way.

    Args:
        model (dict): The ``model`` config (modified).
        base_channels (int): Width of the first stage.
        depth (int): 18 or 34 (basic blocks).

    Returns:
        bool: Whether anything was replaced (False when the backbone is
        already at most that wide).

    Raises:
        ValueError: the backbone is no ResNet, or a stage-fed channel count
            does not match the stage it reads (the config is not the layout
            this function knows).
    """
    backbone = model['backbone']
    if backbone.get('type', '').split('.')[-1] not in _RESNETS:
        raise ValueError(f'small_backbone: {backbone.get("type")} is not a '
                         f'ResNet ({_RESNETS})')
    old = _stage_widths(backbone)
    small = dict(depth=depth, base_channels=base_channels,
                 stem_channels=base_channels)
    new = _stage_widths(dict(backbone, **small))
    changed = False
    if old[-1] > new[-1]:
        backbone.update(small)
        ratio = new[-1] / old[-1]
        _adapt_channels(model, old, new, ratio)
        changed = True
    anc = model.get('ancillary')
    if anc is not None and anc.get('config') is not None:
        config = anc['config']
        anc_model = Config.fromfile(config).model if isinstance(
            config, str) else config
        if small_backbone(anc_model, base_channels, depth):
            anc_model.pretrained = None
            anc['config'] = anc_model
            changed = True
    return changed


def _stage_channels(value, index, old: Sequence[int], new: Sequence[int],
                    where: str):
    if isinstance(index, int):
        if value != old[index]:
            raise ValueError(f'small_backbone: {where} = {value}, but stage '
                             f'{index} of the backbone has {old[index]}')
        return new[index]
    if not isinstance(value, (list, tuple)) or len(value) != len(index):
        raise ValueError(f'small_backbone: {where} = {value} does not match '
                         f'in_index {index}')
    return type(value)(
        _stage_channels(v, i, old, new, where) for v, i in zip(value, index))


_NOT_FED = ('backbone', 'data_preprocessor', 'ancillary', 'train_cfg',
            'test_cfg', 'norm_cfg', 'act_cfg', 'init_cfg')


def _adapt_channels(node, old, new, ratio, where='model') -> None:
    """Adapt the channels of everything under ``node`` fed by the backbone
    (see :func:`small_backbone`)."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            _adapt_channels(item, old, new, ratio, f'{where}[{i}]')
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        value = node[key]
        if key in _NOT_FED or key.startswith('loss'):
            continue
        if key == 'in_channels' and 'in_index' in node:
            node[key] = _stage_channels(value, node['in_index'], old, new,
                                        f'{where}.in_channels')
        elif key == 'c1_in_channels':
            node[key] = _stage_channels(value, 0, old, new,
                                        f'{where}.c1_in_channels')
        elif key.endswith('channels') and isinstance(value, int):
            node[key] = max(8, int(round(value * ratio)))
        else:
            _adapt_channels(value, old, new, ratio, f'{where}.{key}')


# ----------------------------------------------------------------------
# tiny config
# ----------------------------------------------------------------------
def tiny_config(config: Union[str, Config], voc_root: str, work_dir: str,
                size: int = 48, iters: int = 2, val_images: int = 2,
                cityscapes_root: str = None,
                small_backbone_channels: int = None,
                own_test: bool = False, serialize_data: bool = True):
    """Load ``config`` and shrink it to a few iterations on tiny crops of the
    generated dataset at ``voc_root`` (or ``cityscapes_root`` for Cityscapes
    datasets; single worker, no pretrained weights nor chained checkpoints,
    constant lr; the config's text is not run through yapf).

    Args:
        config (str | Config): A config file, or a loaded config (changed
            in place).
        small_backbone_channels (int, optional): when given, a ResNet wider
            than a ResNet-18 of that base width is replaced by one (heads
            adapted, see :func:`small_backbone`).
        own_test (bool): keep the config's own ``test_dataloader`` (pointed
            at the generated data, scales shrunk) instead of the val one.
        serialize_data (bool): False sets ``serialize_data=False`` on every
            dataset: no pickling of the (tiny) annotation list and no
            ``gc.collect()`` per dataset built (~1 s each in a test process).
    """
    # the Runner renders the config (log, work_dir dump, every checkpoint)
    # through yapf, 5-30 s a Runner on the 2-core machine: the same valid
    # Python text, unformatted
    cfg = Config.fromfile(config, format_python_code=False) if isinstance(
        config, str) else config
    object.__setattr__(cfg, '_format_python_code', False)
    cfg.work_dir = work_dir
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
        for d in leaf_datasets(loader.dataset):
            _point_at_generated(d, voc_root, cityscapes_root)
            if not serialize_data:
                d.serialize_data = False
    cfg.val_dataloader.dataset.indices = val_images
    if own_test:
        cfg.test_dataloader.dataset.indices = val_images
        shrink_scales(cfg.test_dataloader, size)
    else:
        cfg.test_dataloader = cfg.val_dataloader
    shrink_scales(cfg.train_dataloader, size)
    shrink_scales(cfg.val_dataloader, size)
    if 'size' in cfg.model.get('data_preprocessor', {}):
        cfg.model.data_preprocessor.size = (size, size)
    cfg.model.pretrained = None
    cfg.load_from = None  # stage-chained configs load their predecessor
    if 'ancillary' in cfg.model:  # untrained ancillary model (logged)
        cfg.model.ancillary.checkpoint = None
    if small_backbone_channels:
        small_backbone(cfg.model, small_backbone_channels)
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.checkpoint.save_optimizer = False  # disk: tests only
    cfg.param_scheduler = []
    # the Runner seeds everything before it builds the model: without a seed
    # the layers that keep their construction-time init (ConvModules inside
    # PPM's ModuleList or a head's Sequential, which BaseModule.init_weights
    # does not reach) differ from run to run even after torch.manual_seed
    cfg.randomness = dict(seed=0)
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CyclicPseudoMaskHook':  # a round ends mid-run
            hook.round_iters = [max(1, iters // 2)]
            shrink_scales(hook, size)  # predict / train pipelines
    return cfg
