"""Write multi-scale + flip class activation maps (CAMs) of a trained
classification model (e.g. ``CAMHead``) in the CAM file layout of
``tools/generate_pseudo_masks.py``.

For Pseudo-mask Matters (Li et al., ICCV 2021, Sec. 3,
https://arxiv.org/abs/2108.12995) and its SEAM-style CAM inference: every
image is rescaled by each ``--scales`` factor (and flipped with ``--flip``),
the decode head's class activations (``decode_head.forward`` on
``extract_feat``, i.e. ``a_c . x`` before any normalisation) are resized
bilinearly to the image size, flipped back and summed; the sum is rectified
(``max(., 0)``) and only the image's labelled classes are kept.

Output: ``<out-dir>/<img_id>.npz`` with ``keys`` = ``(K,)`` dataset class
indices of the labelled foreground classes (VOC 1-20) and ``cam`` =
``(K, H, W)`` float32 raw summed CAMs at the image size (the pseudo-mask
step normalises them, Eq. 1). Existing files are skipped (resumable) and
each file is written atomically.

The images and their labels come from the config's test dataset
(``WeakVOCDataset``), switched to image-level supervision: labels from the
VOC XML (``--label-source xml``) or from the classes of the ground-truth mask
(``gt_mask``). Example::

    python tools/generate_cams.py \\
        configs/single_stage/cam-gap_r101-d8_4xb4-13k_voc12aug-321x321.py \\
        work_dirs/cam-gap/iter_13000.pth --out-dir work_dirs/cams \\
        --ann-file ImageSets/Segmentation/train.txt \\
        --scales 1.0 0.5 1.5 2.0 --flip
"""
import argparse
import copy
import os.path as osp
import sys
from typing import List, Optional, Sequence

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch import nn

from mmseg_weak.utils.cam_io import save_cams
from mmseg_weak.utils.checkpoint import register_checkpoint_safe_globals
from mmseg_weak.utils.known_warnings import ignore_known_warnings

ignore_known_warnings()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument('--out-dir', required=True, help='CAM folder')
    parser.add_argument('--data-root', help='override the dataset data_root')
    parser.add_argument('--ann-file', help='override the split list')
    parser.add_argument('--label-source', default='xml',
                        choices=['xml', 'gt_mask'],
                        help='where the image labels come from')
    parser.add_argument('--scales', type=float, nargs='+',
                        default=[1.0, 0.5, 1.5, 2.0])
    parser.add_argument('--flip', action='store_true',
                        help='add horizontally flipped inputs')
    parser.add_argument('--device', default='cuda:0'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo existing CAM files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value')
    return parser.parse_args(argv)


@torch.no_grad()
def multi_scale_cams(model: nn.Module,
                     img: np.ndarray,
                     scales: Sequence[float] = (1.0, ),
                     flip: bool = False) -> torch.Tensor:
    """Summed multi-scale (+ flip) foreground activations of one image.

    Args:
        model (nn.Module): An MMSeg segmentor (``data_preprocessor``,
            ``extract_feat``, ``decode_head``) in eval mode.
        img (np.ndarray): ``(H, W, 3)`` uint8 image as loaded by
            ``LoadImageFromFile`` (BGR; the preprocessor converts it).
        scales (Sequence[float]): Rescale factors.
        flip (bool): Also run the horizontally flipped images.

    Returns:
        Tensor: ``(num_classes - 1, H, W)`` float32 CPU sums of the
        activations (not rectified).
    """
    head = model.decode_head
    height, width = img.shape[:2]
    total = None
    for scale in scales:
        scaled = img if scale == 1 else mmcv.imrescale(img, scale)
        views = [scaled] + ([mmcv.imflip(scaled)] if flip else [])
        inputs = [
            torch.from_numpy(np.ascontiguousarray(v.transpose(2, 0, 1)))
            for v in views
        ]
        batch = model.data_preprocessor(dict(inputs=inputs), False)['inputs']
        act = head.forward(model.extract_feat(batch))
        if act.shape[1] == head.num_classes:
            act = act[:, 1:]  # a head with a background channel
        elif act.shape[1] != head.num_classes - 1:
            raise ValueError(
                f'{type(head).__name__} returns {act.shape[1]} channels, '
                f'expected num_classes - 1 = {head.num_classes - 1} class '
                'activations')
        act = F.interpolate(
            act.float(), (height, width), mode='bilinear',
            align_corners=False)
        if flip:
            act[1] = act[1].flip(-1)
        summed = act.sum(0).cpu()
        total = summed if total is None else total + summed
    return total


def build_dataset(cfg: Config, args: argparse.Namespace):
    """The config's test dataset with image labels and no augmentation."""
    from mmseg.registry import DATASETS
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    if ds_cfg.get('type') != 'WeakVOCDataset':
        raise ValueError(f"{args.config}: test_dataloader.dataset must be a "
                         f"WeakVOCDataset, got {ds_cfg.get('type')!r}")
    num_classes = cfg.model.decode_head.num_classes
    for key in ('indices', 'with_boxes'):
        ds_cfg.pop(key, None)
    if args.data_root:
        ds_cfg.data_root = args.data_root
    if args.ann_file:
        ds_cfg.ann_file = args.ann_file
    source = 'annotation' if args.label_source == 'xml' else 'gt_mask'
    ds_cfg.update(
        supervision='image_label',
        image_label_source=args.label_source,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadImageLabels', num_classes=num_classes,
                 source=source),
        ])
    return DATASETS.build(ds_cfg)


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    args = parse_args(argv)
    from mmseg.apis import init_model
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint}: checkpoint not found')
    # mmengine checkpoints load with torch's weights_only default
    register_checkpoint_safe_globals()
    model = init_model(cfg, args.checkpoint, device=args.device)
    model.data_preprocessor.test_cfg = None  # no padding: exact sizes
    dataset = build_dataset(cfg, args)
    written = []
    bar = ProgressBar(len(dataset), file=sys.stderr)
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        path = osp.join(args.out_dir, info['img_id'] + '.npz')
        if args.overwrite or not osp.isfile(path):
            results = dataset[idx]
            labels = np.flatnonzero(results['gt_img_labels'] > 0)
            keys = [int(c) for c in labels if c != 0]
            cams = multi_scale_cams(model, results['img'], args.scales,
                                    args.flip).clamp_(min=0)
            save_cams(path, cams[[k - 1 for k in keys]].numpy(), keys)
            written.append(path)
        bar.update()
    print(f'\n{len(written)} CAM files written, '
          f'{len(dataset) - len(written)} already there, in {args.out_dir}')
    return written


if __name__ == '__main__':
    main()
