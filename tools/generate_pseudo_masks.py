"""Turn offline CAMs into pseudo-masks (PPMG of *Pseudo-mask Matters*, or the
classic argmax baselines) and optionally score them against ground truth.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021, Sec. 3.1-3.3, Alg. 1 (https://arxiv.org/abs/2108.12995).

Every image runs through a pipeline of the registered pseudo-label
transforms (``LoadCAMs``, ``NormalizeCAMs``, ``CoVSmoothCAMs``,
``AddCAMBackground``, ``ProportionalPseudoMask``, ``ArgmaxPseudoMask``,
``PAMRRefineMasks``, ``DenseCRFRefine``; the contract is in
:mod:`mmseg_weak.utils.soft_maps`) that must end with ``gt_seg_map`` at the
image size: either a ``--method`` preset (built from the flags, see
:func:`preset_pipeline`; ``--print-pipeline`` shows it) or any chain in a
config file, ``--pipeline cfg.py`` with ``pipeline = [...]`` (the same chain
the cyclic hook's ``post_pipeline`` or a training pipeline can use). The
pipeline starts from ``img_path``, ``img_id`` and, with ``--ann-dir``,
``gt_img_labels`` (multi-hot over ``--classes``, from the XML).

Inputs:

- ``--img-dir``: ``<img_id><img-suffix>`` RGB images (VOC ``JPEGImages``);
- ``--cam-dir``: ``<img_id>.npz`` CAM files, each with ``keys`` = ``(K,)``
  dataset class indices of the image's labelled classes (VOC 1-20, never the
  background 0) and ``cam`` = ``(K, H, W)`` float maps at image size (raw or
  normalised: Eq. 1 is applied here). ``tools/generate_cams.py`` writes them;
  SEAM / PMM ``.npy`` dicts (0-based keys) are read with
  ``--cam-suffix .npy --allow-pickle``;
- ``--ids``: split list (one id per line; default: every CAM file).

Outputs: ``<out-dir>/<img_id>.png``, palette PNGs (VOC palette, like
``SegmentationClassAug``) holding class indices. Finished images are skipped
(rerun after an interruption to resume; each PNG is written to a temporary
file and renamed, so no half-written PNG exists). With ``--gt-dir``, the
per-class IoU and mIoU of the pseudo-masks vs the ground truth (255 ignored)
are printed and written to ``--report`` (JSON).

Example (PPMG, alpha 11, s 0.3, t 0.05, 8 processes)::

    python tools/generate_pseudo_masks.py \\
        --img-dir data/VOCdevkit/VOC2012/JPEGImages \\
        --cam-dir work_dirs/cams --out-dir work_dirs/ppmg \\
        --ids data/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt \\
        --gt-dir data/VOCdevkit/VOC2012/SegmentationClass --nproc 8

CAMs -> PAMR -> dense CRF (a pipeline file)::

    python tools/generate_pseudo_masks.py \
        --pipeline configs/recipes/pseudo_masks/cam_pamr_crf.py \
        --img-dir ... --cam-dir work_dirs/cams --out-dir work_dirs/pamr_crf
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import track_parallel_progress, track_progress
from mmseg.datasets import PascalVOCDataset
from mmseg.evaluation.metrics import IoUMetric
from mmseg.utils import get_palette

import mmseg_weak  # noqa: F401 (registers the transforms)
from mmseg_weak.datasets.voc_annotation import (AnnotationError,
                                                image_labels_from_instances,
                                                parse_voc_xml, read_split)
from mmseg_weak.utils.cam_io import CAM_FILE_SUFFIX, CAMFileError
from mmseg_weak.utils.known_warnings import ignore_known_warnings
from mmseg_weak.utils.label_png import read_label_png, write_label_png

ignore_known_warnings()

VOC_CLASSES = tuple(PascalVOCDataset.METAINFO['classes'])
#: ``--alpha`` (the background power of Eq. 2) when not given, per
#: ``--method``, as the authors' code (Eli-YiLi/PMM): PPMG with the
#: grid-searched 11 (``run.py`` sets ``crf_threshs = '11'`` before
#: ``refine_cam``), the argmax-after-CRF baseline with SEAM's 24 (the
#: default ``--crf_threshs '24'`` that ``infer_multi_scale`` uses; Sec. 4.1:
#: "the base mask from original SEAM with alpha in CRF setting to be 24").
#: PMM has no alpha for CAMs without a CRF (it scores them with a constant
#: background score, ``--background-score`` here), so plain ``argmax`` keeps
#: 11.
DEFAULT_ALPHA = {'ppmg': 11.0, 'argmax-crf': 24.0, 'argmax': 11.0}
_PALETTE = get_palette('voc')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--img-dir', required=True, help='image folder')
    parser.add_argument(
        '--cam-dir', help='CAM folder (required by the --method presets; '
        "with --pipeline it sets the pipeline's LoadCAMs cam_dir)")
    parser.add_argument('--out-dir', required=True, help='pseudo-mask folder')
    parser.add_argument('--ids', help='split list (default: all CAM files)')
    parser.add_argument(
        '--method', default='ppmg', choices=['ppmg', 'argmax-crf', 'argmax'],
        help='preset pipeline: ppmg: Alg. 1; argmax-crf: Eq. 1-4; argmax: '
        'no CRF (the flags below set its steps)')
    parser.add_argument(
        '--pipeline', help='a config file whose `pipeline` list of '
        'transforms makes gt_seg_map from the image (instead of --method); '
        'e.g. configs/recipes/pseudo_masks/cam_pamr_crf.py')
    parser.add_argument('--print-pipeline', action='store_true',
                        help='print the pipeline that runs')
    parser.add_argument(
        '--alpha', type=float, default=None,
        help='background power of Eq. 2 (default: 24 for argmax-crf, '
        "PMM's SEAM baseline; 11 for ppmg and argmax; see DEFAULT_ALPHA)")
    parser.add_argument(
        '--cov-scale', type=float, default=None,
        help='s of Eq. 6 (default 0.3 for ppmg, 0 = no CVS for the argmax '
        'methods)')
    parser.add_argument('--threshold', type=float, default=0.05,
                        help='t of Eq. 5-6')
    parser.add_argument('--fg-threshold', type=float, default=0.5,
                        help='CRF foreground threshold of PPMG (Eq. 7)')
    parser.add_argument(
        '--background-score', type=float, default=None,
        help='constant background score for the argmax methods instead of '
        'Eq. 2 (e.g. 0.1 to evaluate raw CAMs)')
    parser.add_argument('--no-normalize', action='store_true',
                        help='skip Eq. 1 (CAMs already normalised)')
    parser.add_argument('--crf-backend', default='torch',
                        choices=['torch', 'pydensecrf'])
    parser.add_argument('--crf-iters', type=int, default=10)
    parser.add_argument(
        '--crf-gaussian-compat', type=float, default=None,
        help='default 10 for ppmg (PMM), 3 for argmax-crf (SEAM)')
    parser.add_argument('--img-suffix', default='.jpg')
    parser.add_argument('--cam-suffix', default=CAM_FILE_SUFFIX)
    parser.add_argument('--allow-pickle', action='store_true',
                        help='read pickled SEAM/PMM .npy dicts (trusted '
                        'files only)')
    parser.add_argument(
        '--ann-dir', help='VOC Annotations folder: check that every CAM '
        "file's classes are the image's XML labels")
    parser.add_argument('--classes', nargs='+', default=list(VOC_CLASSES),
                        help='class names, background first (default: VOC)')
    parser.add_argument('--gt-dir', help='ground-truth masks for the report')
    parser.add_argument('--gt-suffix', default='.png')
    parser.add_argument('--report', help='JSON report path (default: '
                        '<out-dir>/pseudo_mask_miou.json)')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo finished images')
    parser.add_argument('--nproc', type=int, default=1,
                        help='worker processes (parallel over images)')
    parser.add_argument(
        '--threads', type=int, default=1,
        help='torch threads per process for the torch CRF (default 1: the '
        'small per-image filtering does not gain from more)')
    args = parser.parse_args(argv)
    if args.alpha is None:
        args.alpha = DEFAULT_ALPHA[args.method]
    return args


def read_ids(args: argparse.Namespace) -> List[str]:
    """Image ids of the split list, or of every CAM file."""
    if args.ids:
        ids = read_split(args.ids)
    else:
        if not osp.isdir(args.cam_dir):
            raise FileNotFoundError(f'{args.cam_dir}: CAM folder not found')
        ids = sorted(name[:-len(args.cam_suffix)]
                     for name in os.listdir(args.cam_dir)
                     if name.endswith(args.cam_suffix))
    if not ids:
        raise ValueError(f'no image id in {args.ids or args.cam_dir}')
    return ids


def _xml_labels(args: argparse.Namespace, img_id: str) -> List[int]:
    ann = parse_voc_xml(
        osp.join(args.ann_dir, img_id + '.xml'), args.classes)
    background = 0 if args.classes[0] == 'background' else None
    return [
        c for c in image_labels_from_instances(ann['instances'], background)
        if c != background
    ]


def preset_pipeline(args: argparse.Namespace) -> List[dict]:
    """The ``--method`` presets as pipelines of the registered transforms.

    ``ppmg``: LoadCAMs -> NormalizeCAMs -> CoVSmoothCAMs ->
    ProportionalPseudoMask (Alg. 1, alpha 11 by default); ``argmax-crf`` /
    ``argmax``: LoadCAMs -> NormalizeCAMs [-> CoVSmoothCAMs] ->
    AddCAMBackground -> ArgmaxPseudoMask (Eq. 1-4, with / without the CRF;
    alpha 24 with the CRF by default, PMM's SEAM baseline, 11 without).
    Each flag sets the argument of its step (``--alpha`` overrides the
    per-method default ``DEFAULT_ALPHA``); the CRF defaults are those of the
    steps (``PPMG_CRF_CFG`` / ``BASELINE_CRF_CFG``).
    """
    crf_cfg = dict(num_iter=args.crf_iters)
    if args.crf_gaussian_compat is not None:
        crf_cfg['gaussian_compat'] = args.crf_gaussian_compat
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadCAMs', cam_dir=args.cam_dir, suffix=args.cam_suffix,
             num_classes=len(args.classes), allow_pickle=args.allow_pickle)
    ]
    if not args.no_normalize:
        pipeline.append(dict(type='NormalizeCAMs'))
    cov_scale = args.cov_scale
    if cov_scale is None:
        cov_scale = 0.3 if args.method == 'ppmg' else 0.0
    smooth = dict(type='CoVSmoothCAMs', scale=cov_scale,
                  threshold=args.threshold)
    if args.method == 'ppmg':
        return pipeline + [
            smooth,
            dict(type='ProportionalPseudoMask', alpha=args.alpha,
                 fg_threshold=args.fg_threshold, crf_cfg=crf_cfg,
                 crf_backend=args.crf_backend)
        ]
    cam_key = 'cams'
    if cov_scale > 0:  # the "CRF & CVS" row of Table 2
        pipeline.append(smooth)
        cam_key = 'cams_smoothed'
    return pipeline + [
        dict(type='AddCAMBackground', alpha=args.alpha,
             background_score=args.background_score, cam_key=cam_key),
        dict(type='ArgmaxPseudoMask', use_crf=args.method == 'argmax-crf',
             crf_cfg=crf_cfg, crf_backend=args.crf_backend)
    ]


def load_pipeline(args: argparse.Namespace) -> List[dict]:
    """The pipeline of ``--pipeline`` (its ``pipeline`` variable; the
    ``cam_dir`` of its ``LoadCAMs`` steps set by ``--cam-dir`` when given),
    or the ``--method`` preset."""
    if not args.pipeline:
        return preset_pipeline(args)
    if not osp.isfile(args.pipeline):
        raise FileNotFoundError(f'{args.pipeline}: pipeline config not found')
    cfg = Config.fromfile(args.pipeline)
    if not isinstance(cfg.get('pipeline'), (list, tuple)):
        raise ValueError(f'{args.pipeline}: no `pipeline = [...]` list of '
                         'transforms')
    pipeline = [dict(step) for step in cfg.pipeline]
    for step in pipeline:
        if step.get('type') == 'LoadCAMs' and args.cam_dir:
            step['cam_dir'] = args.cam_dir
    return pipeline


def process_one(img_id: str, args: argparse.Namespace,
                pipeline: Callable) -> Optional[Dict]:
    """Make (or reuse) the pseudo-mask of one image with ``pipeline``; its
    IoU areas when ``--gt-dir`` is given."""
    out_path = osp.join(args.out_dir, img_id + '.png')
    img_path = osp.join(args.img_dir, img_id + args.img_suffix)
    if args.overwrite or not osp.isfile(out_path):
        if not osp.isfile(img_path):
            raise FileNotFoundError(f'{img_path}: image of {img_id} not found')
        results = dict(img_path=img_path, img_id=img_id, seg_fields=[])
        if args.ann_dir:
            labels = np.zeros(len(args.classes), np.float32)
            labels[[0] + _xml_labels(args, img_id)] = 1
            results['gt_img_labels'] = labels
        results = pipeline(results)
        label = results.get('gt_seg_map')
        if label is None:
            raise ValueError(f'{img_path}: the pipeline wrote no gt_seg_map '
                             '(end it with a step that makes the hard map, '
                             'e.g. ArgmaxPseudoMask)')
        if label.shape != tuple(results['ori_shape'][:2]):
            raise ValueError(
                f'{img_path}: the pseudo-mask is {label.shape[1]}x'
                f'{label.shape[0]}, the image {results["ori_shape"][1]}x'
                f'{results["ori_shape"][0]} (no resizing steps in a '
                'pseudo-mask pipeline)')
        write_label_png(out_path, label, _PALETTE)
    else:
        label = read_label_png(out_path, 'pseudo-mask')
    if not args.gt_dir:
        return None
    gt = read_label_png(
        osp.join(args.gt_dir, img_id + args.gt_suffix), 'ground-truth mask')
    if gt.shape != label.shape:
        raise ValueError(
            f'{args.gt_dir}/{img_id}{args.gt_suffix}: ground truth '
            f'{gt.shape[1]}x{gt.shape[0]} differs from the pseudo-mask '
            f'{label.shape[1]}x{label.shape[0]}')
    areas = IoUMetric.intersect_and_union(
        torch.from_numpy(label.astype(np.int64)),
        torch.from_numpy(gt.astype(np.int64)), len(args.classes), 255)
    return dict(
        intersect=areas[0].numpy(),
        union=areas[1].numpy(),
        pred=areas[2].numpy(),
        label=areas[3].numpy())


class _Worker:
    """Picklable ``process_one`` bound to the arguments; each process builds
    the pipeline once."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pipeline_cfg = load_pipeline(args)
        self._pipeline = None

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _pipeline=None)

    def __call__(self, img_id: str) -> Optional[Dict]:
        if self._pipeline is None:
            init_default_scope('mmseg')
            self._pipeline = Compose(self.pipeline_cfg)
        return process_one(img_id, self.args, self._pipeline)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def miou_report(areas: Sequence[Dict], classes: Sequence[str]) -> Dict:
    """Per-class IoU (%) and mIoU (%, over the classes present in the ground
    truth or the predictions) from the per-image areas."""
    total = {
        k: torch.from_numpy(np.sum([a[k] for a in areas], axis=0))
        for k in areas[0]
    }
    metrics = IoUMetric.total_area_to_metrics(
        total['intersect'], total['union'], total['pred'], total['label'],
        ['mIoU'])
    iou = np.asarray(metrics['IoU'], dtype=np.float64)
    per_class = {
        name: (None if np.isnan(v) else round(float(v) * 100, 2))
        for name, v in zip(classes, iou)
    }
    return dict(
        num_images=len(areas),
        mIoU=round(float(np.nanmean(iou)) * 100, 2),
        aAcc=round(float(metrics['aAcc']) * 100, 2),
        IoU=per_class)


def format_report(report: Dict, title: str) -> str:
    """The report as a text table in the style of Tables 2-3."""
    width = max(len(name) for name in report['IoU']) + 2
    lines = [title, f"{'class':<{width}}IoU (%)"]
    for name, v in report['IoU'].items():
        lines.append(f"{name:<{width}}{'n/a' if v is None else f'{v:.2f}'}")
    lines.append(f"{'mIoU':<{width}}{report['mIoU']:.2f}  "
                 f"({report['num_images']} images)")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Optional[Dict]:
    args = parse_args(argv)
    if len(args.classes) > 256:
        raise ValueError('at most 256 classes fit in a PNG label map')
    if not args.pipeline and not args.cam_dir:
        raise ValueError('--cam-dir is required with the --method presets')
    if not args.ids and not args.cam_dir:
        raise ValueError('--ids is required when there is no --cam-dir')
    for name, folder in (('--img-dir', args.img_dir),
                         ('--cam-dir', args.cam_dir),
                         ('--gt-dir', args.gt_dir),
                         ('--ann-dir', args.ann_dir)):
        if folder and not osp.isdir(folder):
            raise FileNotFoundError(f'{folder}: {name} folder not found')
    ids = read_ids(args)
    os.makedirs(args.out_dir, exist_ok=True)
    worker = _Worker(args)
    if args.print_pipeline:
        print('pipeline:\n' + '\n'.join(f'  {step}'
                                        for step in worker.pipeline_cfg))
    if args.nproc > 1:
        areas = track_parallel_progress(
            worker,
            ids,
            args.nproc,
            initializer=_init_worker,
            initargs=(args.threads, ),
            file=sys.stderr)
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(args.threads)
        try:
            areas = track_progress(worker, ids, file=sys.stderr)
        finally:
            torch.set_num_threads(threads)
    print(f'{len(ids)} pseudo-masks in {args.out_dir}')
    if not args.gt_dir:
        return None
    report = miou_report(areas, args.classes)
    report.update(
        method=args.pipeline or args.method,
        pipeline=worker.pipeline_cfg,
        alpha=args.alpha,
        cov_scale=args.cov_scale,
        threshold=args.threshold,
        cam_dir=args.cam_dir,
        gt_dir=args.gt_dir)
    path = args.report or osp.join(args.out_dir, 'pseudo_mask_miou.json')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(report, f, indent=2)
    print(format_report(report, f'pseudo-masks ({report["method"]}) vs '
                        f'{args.gt_dir}'))
    print(f'report written to {path}')
    return report


if __name__ == '__main__':
    try:
        main()
    except (AnnotationError, CAMFileError, FileNotFoundError,
            ValueError) as e:
        sys.exit(f'error: {e}')
