"""Time of one training step of each method's model against the plain MMSeg
model of the same backbone and data, and the share of the difference that is
not the method's own extra work (the non-inherent overhead).

Every model is built from the repository's generated-VOC (``synthvoc``)
config, half-width ResNet-18 from scratch, at ``--size`` pixels (96 by
default, the configs' crop), on a batch drawn once from the config's own
training dataloader (its pipelines, samplers and batch composition) over a
freshly generated VOC folder of square images (so that every crop has the
full size and all models see inputs of the same shape):

======================  ==============================================
method                  plain twin (same backbone)
======================  ==============================================
no-SC, linear-SC,       ``EncoderDecoder`` DeepLabV3+ on masks (4 fully
conv-SC (stage 3)       labeled images): ``configs/baselines/deeplabv3plus``
single-stage WSSS       ``EncoderDecoder`` with the same SG + GCI decoder,
                        MMSeg's cross-entropy on masks (4 images)
PSPNet + PUS            the same PSPNet with the wrapped cross-entropy
CAC                     its supervised twin (``configs/cac/supervised_``)
======================  ==============================================

One step is ``model.train_step(batch, optim_wrapper)`` (data preprocessor,
forward, losses, backward, SGD step), with the config's optimizer at lr 0
so that the weights, and with them every data-dependent branch (PUS switch,
DC-loss anchors, pseudo-label validity), stay the same from step to step.
The inherent extra work of a method is timed on its own, on the same
preprocessed batch and weights:

- self-correction: the frozen ancillary model's forward on the images that
  need it (3 box images; conv-SC: all 4) and, for conv-SC, the correction
  network (weak targets, correction logits, their loss and backward);
- single-stage: the pseudo ground truth (PAMR on the detached masks,
  upsampling, thresholds: ``NGWPHead.pseudo_labels``);
- PUS: the switch statistic and the clamp on the per-pixel loss maps of the
  decode and auxiliary heads (``beta`` is raised so that PUS is active, as
  after its warm-up);
- CAC: the unlabeled branch, forward and backward: both views through the
  backbone and decoder, projector, classifier and the DC loss (warm-up off).

Non-inherent overhead = (method - plain - inherent) / plain. All timed calls
run round-robin (one call of each per round, ``--steps`` rounds after
``--warmup``), so that a change of load on a shared machine affects all of
them alike; the median of each is reported.

Example::

    python tools/analysis_tools/benchmark_step_overhead.py --steps 15
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import tempfile
import time
import types
from typing import Callable, Dict, List

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: config of each model (relative to the repository root)
CONFIGS = dict(
    plain_deeplabv3plus='configs/baselines/'
    'deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    nosc='configs/self_correction/'
    'nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    linsc='configs/self_correction/'
    'linsc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    convsc='configs/self_correction/'
    'convsc-stage3_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sswss='configs/single_stage/'
    'sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py',
    pus='configs/pmm/pmm_pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py',
    cac='configs/cac/cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py',
    cac_twin='configs/cac/'
    'supervised_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py',
)

#: method -> (label, plain twin, inherent parts, what the inherent part is)
METHODS = dict(
    nosc=('no-SC', 'plain_deeplabv3plus', ['anc_box'],
          'ancillary forward (3 box images)'),
    linsc=('linear-SC', 'plain_deeplabv3plus', ['anc_box'],
           'ancillary forward (3 box images)'),
    convsc=('conv-SC', 'plain_deeplabv3plus', ['anc_all', 'correction'],
            'ancillary forward (4 images) + correction net fwd/bwd'),
    sswss=('single-stage WSSS', 'sswss_twin', ['pseudo_gt'],
           'PAMR pseudo ground truth'),
    pus=('PSPNet + PUS', 'pus_twin', ['pus_stat'],
         'PUS statistic + clamp (2 heads)'),
    cac=('CAC', 'cac_twin', ['cac_views'],
         'unlabeled views fwd/bwd + projector + DC loss'),
)

#: the clocks every call is timed with (the CPU time of this process is
#: hardly affected by other processes competing for the cores)
CLOCKS = ('cpu', 'wall')

#: twin -> label
TWINS = dict(
    plain_deeplabv3plus='EncoderDecoder DeepLabV3+ (CE)',
    sswss_twin='EncoderDecoder, same SG decoder (CE)',
    pus_twin='PSPNet (CE)',
    cac_twin='supervised DeepLabV3+ (CE)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=list(METHODS))
    parser.add_argument('--steps', type=int, default=15,
                        help='timed rounds (the median is reported)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed rounds first')
    parser.add_argument('--size', type=int, default=96,
                        help='crop size (images are generated at 4/3 of it)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads (torch.set_num_threads)')
    parser.add_argument('--data-root', default=None,
                        help='generated VOC2012 folder to reuse (default: '
                        'generate one in a temporary folder)')
    parser.add_argument('--json', default=None,
                        help='also write the results to this file')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# data and configs
# ----------------------------------------------------------------------
def generate_data(out_dir: str, size: int) -> str:
    """A small generated VOC folder of square images (``4/3 * size``
    pixels) with the split lists the configs read; returns its VOC2012
    root."""
    from mmseg_weak.datasets.splits import write_splits
    from mmseg_weak.testing import generate_synthetic_voc
    side = max(16, round(size * 4 / 3))
    info = generate_synthetic_voc(
        out_dir, num_aug=16, num_train=4, num_val=2, seed=0, min_size=side,
        max_size=side)
    root = info['data_root']
    seg = osp.join(root, 'ImageSets', 'Segmentation')
    write_splits(
        osp.join(seg, 'splits', 'seed0'),
        osp.join(seg, 'aug.txt'),
        sizes=['1/8'],
        labeled_files=[osp.join(seg, 'train.txt')])
    return root


def _resize_scales(node, size: int) -> None:
    """Crops to ``size``, resize scales to ``4/3 * size`` (in place)."""
    side = round(size * 4 / 3)
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'crop_size':
                node[key] = (size, size)
            elif key == 'scale' and isinstance(value, (tuple, list)):
                node[key] = (side, side)
            else:
                _resize_scales(value, size)
    elif isinstance(node, list):
        for item in node:
            _resize_scales(item, size)


def _leaf_datasets(ds: dict) -> List[dict]:
    return list(ds['datasets']) if ds.get('type') == 'ConcatDataset' \
        else [ds]


def load_config(name: str, data_root: str, size: int):
    """The config of ``name`` on the generated data at ``size``: no
    pretrained weights, untrained ancillary model, no warm-ups, lr 0,
    single-process loading."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS[name]),
                          format_python_code=False)
    loader = cfg.train_dataloader
    loader.num_workers = 0
    loader.persistent_workers = False
    for ds in _leaf_datasets(loader.dataset):
        ds.data_root = data_root
        ds.serialize_data = False  # one batch is drawn: no gc.collect()
        pseudo = ds.get('data_prefix', {}).get('pseudo_path')
        if pseudo and not osp.isdir(osp.join(data_root, pseudo)):
            # pseudo-masks are made from CAMs by a tool: the generated
            # ground truth stands in for them
            ds.data_prefix.pseudo_path = 'SegmentationClassAug'
    _resize_scales(loader, size)
    model = cfg.model
    model.pretrained = None
    preprocessor = model.get('data_preprocessor', {})
    if 'size' in preprocessor:
        preprocessor.size = (size, size)
    if 'ancillary' in model:
        anc = model.ancillary
        anc.checkpoint = None  # random weights: same cost
        if isinstance(anc.config, str) and not osp.isabs(anc.config):
            anc.config = osp.join(ROOT, anc.config)
    if 'warmup_iters' in model:
        model.warmup_iters = 0  # CAC: the unlabeled branch from step 0
    cfg.optim_wrapper.optimizer.lr = 0.0
    return cfg


def first_batch(cfg) -> dict:
    """One batch of the config's training dataloader (seed 0)."""
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    return next(iter(loader))


def build(cfg):
    """Model (weights initialised as the Runner does, train mode) and its
    optimizer wrapper."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))


def _train_step(model, optim_wrapper, batch) -> Callable[[], object]:
    return lambda: model.train_step(batch, optim_wrapper)


# ----------------------------------------------------------------------
# twins and inherent parts
# ----------------------------------------------------------------------
def sswss_twin_config(cfg, plain_cfg):
    """``EncoderDecoder`` with the single-stage model's decoder (SG + GCI
    DeepLabV3+), MMSeg's cross-entropy on masks, on the plain config's
    (fully labeled) data."""
    twin = copy.deepcopy(plain_cfg)
    model = copy.deepcopy(cfg.model)
    model.type = 'EncoderDecoder'
    model.decode_head.pamr = None
    model.decode_head.loss_decode = dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
    twin.model = model
    twin.optim_wrapper = copy.deepcopy(cfg.optim_wrapper)
    return twin


def plain_sg_head(head) -> None:
    """Make an nGWP head of the twin a plain MMSeg head: background channel
    + ``BaseDecodeHead.loss_by_feat`` (cross-entropy on ``gt_sem_seg``)."""
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead

    from mmseg_weak.models.decode_heads.ngwp_head import add_background_channel

    def loss_by_feat(self, seg_logits, batch_data_samples, images=None):
        logits = add_background_channel(seg_logits, self.background_score)
        return BaseDecodeHead.loss_by_feat(self, logits, batch_data_samples)

    head.loss_by_feat = types.MethodType(loss_by_feat, head)


def pus_twin_config(cfg):
    """The PUS config with every ``PUSLoss`` replaced by the loss it wraps
    (its ``loss_weight`` moved in)."""
    twin = copy.deepcopy(cfg)
    heads = [twin.model.decode_head, twin.model.auxiliary_head]
    for head in heads:
        if head is None:
            continue
        pus = head.loss_decode
        inner = copy.deepcopy(pus.loss)
        if 'loss_weight' in pus:
            inner.loss_weight = pus.loss_weight
        head.loss_decode = inner
    return twin


def ancillary_part(model, data) -> Callable[[], object]:
    inputs, samples = data['inputs'], data['data_samples']
    return lambda: model.ancillary_logits(inputs, samples)


def correction_part(model, data) -> Callable[[], object]:
    """conv-SC's correction network: weak targets of the box images (no
    gradient), correction logits of the full images with their loss and
    backward (what ``ConvSelfCorrectionHead`` adds to no-SC)."""
    import torch
    from mmseg.models.utils import resize

    from mmseg_weak.utils.supervision import (BOX, FULL,
                                              indices_with_supervision)
    head = model.decode_head
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        logits = head.forward(model.extract_feat(inputs))
        anc = model.ancillary_logits(inputs, samples)
    full = indices_with_supervision(samples, FULL)
    weak = indices_with_supervision(samples, BOX)
    size = samples[0].gt_sem_seg.shape
    labels = torch.stack([samples[i].gt_sem_seg.data for i in full]).squeeze(1)

    def run():
        shape = logits.shape[2:]
        with torch.no_grad():
            a = resize(anc[weak], size=shape, mode='bilinear',
                       align_corners=head.align_corners)
            head.weak_target(logits[weak], a)
        a = resize(anc[full], size=shape, mode='bilinear',
                   align_corners=head.align_corners)
        corr = resize(head.correction_logits(logits[full], a), size=size,
                      mode='bilinear', align_corners=head.align_corners)
        head.loss_correction(corr, labels,
                             ignore_index=head.ignore_index).backward()
        head.correction.zero_grad(set_to_none=True)

    return run


def pseudo_gt_part(model, data) -> Callable[[], object]:
    """Single-stage: ``NGWPHead.pseudo_labels`` (PAMR, upsampling, pseudo
    ground truth) on the batch's detached masks."""
    import torch

    from mmseg_weak.models.decode_heads.ngwp_head import stack_image_labels
    head = model.decode_head
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        _, masks, _ = head.masks_and_scores(
            head.forward(model.extract_feat(inputs)))
    images = model.denormalize(inputs).detach()
    labels = stack_image_labels(samples, head.num_classes, head.ignore_index)
    return lambda: head.pseudo_labels(masks, images, labels)


def pus_part(model, data) -> Callable[[], object]:
    """PUS's own work on the per-pixel loss maps of every ``PUSLoss`` of
    the model: the switch statistic, the comparison and the clamp, with
    the backward of the clamp."""
    import torch
    from mmseg.models.utils import resize

    from mmseg_weak.models.losses import PUSLoss
    from mmseg_weak.models.losses.pus_loss import pus_transform
    inputs, samples = data['inputs'], data['data_samples']
    labels = torch.stack([s.gt_sem_seg.data for s in samples]).squeeze(1)
    maps = []
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        heads = [model.decode_head] + (
            list(model.auxiliary_head) if isinstance(
                model.auxiliary_head, torch.nn.ModuleList) else
            [model.auxiliary_head] if model.with_auxiliary_head else [])
        for head in heads:
            pus = head.loss_decode
            assert isinstance(pus, PUSLoss), type(pus)
            logits = resize(head.forward(feats), size=labels.shape[1:],
                            mode='bilinear', align_corners=head.align_corners)
            per_pixel = pus._per_pixel(logits, labels,
                                       ignore_index=head.ignore_index)
            maps.append((pus, per_pixel, head.ignore_index))

    def run():
        for pus, per_pixel, ignore_index in maps:
            loss = per_pixel.detach().requires_grad_()
            denominator = pus._denominator(loss, labels, ignore_index)
            with torch.no_grad():
                mean = loss.sum() / max(int(denominator), 1)
            out = pus_transform(loss, pus.mode, pus.kappa, pus.eps) \
                if mean < pus.beta else loss
            out.sum().backward()

    return run


def cac_views_part(model, data) -> Callable[[], object]:
    """CAC's unlabeled branch: both views through backbone + decoder,
    projector, classifier, the DC loss and the backward of it all."""
    from mmseg_weak.models.segmentors.context_aware_consistency import VIEWS
    inputs, samples = data['inputs'], data['data_samples']

    def run():
        model._check_views(inputs, samples)
        _, proj, logits = zip(
            *(model.unlabeled_features(inputs[v]) for v in VIEWS))
        loss = model.dc_loss(proj, logits, [samples[v] for v in VIEWS])
        loss.backward()
        model.zero_grad(set_to_none=True)

    return run


# ----------------------------------------------------------------------
# measurement
# ----------------------------------------------------------------------
def prepare(methods: List[str], data_root: str, size: int) -> Dict[str, dict]:
    """Build every model, batch and inherent part the methods need:
    ``{name: dict(fn=callable, model=..., data=..., shape=...)}``."""
    import torch
    from mmengine.registry import init_default_scope

    import mmseg_weak  # noqa: F401
    init_default_scope('mmseg')
    calls: Dict[str, dict] = {}
    cfgs: Dict[str, object] = {}

    def config(name):
        if name not in cfgs:
            cfgs[name] = load_config(name, data_root, size)
        return cfgs[name]

    def add_model(name, cfg, after_build=None):
        model, wrapper = build(cfg)
        if after_build is not None:
            after_build(model)
        batch = first_batch(cfg)
        with torch.no_grad():
            data = model.data_preprocessor(copy.deepcopy(batch), True)
        calls[name] = dict(fn=_train_step(model, wrapper, batch),
                           model=model, data=data, shape=_shape(data))
        return model, data

    for method in methods:
        twin = METHODS[method][1]
        if twin not in calls:
            if twin == 'sswss_twin':
                add_model(twin, sswss_twin_config(
                    config('sswss'), config('plain_deeplabv3plus')),
                    lambda m: plain_sg_head(m.decode_head))
            elif twin == 'pus_twin':
                add_model(twin, pus_twin_config(config('pus')))
            else:
                add_model(twin, config(twin))
        if method == 'pus':
            cfg = copy.deepcopy(config('pus'))
            for head in (cfg.model.decode_head, cfg.model.auxiliary_head):
                head.loss_decode.beta = float('inf')  # PUS active
        else:
            cfg = config(method)
        model, data = add_model(method, cfg)
        if method in ('nosc', 'linsc') and 'anc_box' not in calls:
            calls['anc_box'] = dict(fn=ancillary_part(model, data))
        elif method == 'convsc':
            calls['anc_all'] = dict(fn=ancillary_part(model, data))
            calls['correction'] = dict(fn=correction_part(model, data))
        elif method == 'sswss':
            calls['pseudo_gt'] = dict(fn=pseudo_gt_part(model, data))
        elif method == 'pus':
            calls['pus_stat'] = dict(fn=pus_part(model, data))
        elif method == 'cac':
            calls['cac_views'] = dict(fn=cac_views_part(model, data))
    return calls


def _shape(data) -> str:
    inputs = data['inputs']
    if isinstance(inputs, dict):
        return ' + '.join(f'{k} {"x".join(map(str, v.shape))}'
                          for k, v in inputs.items())
    return 'x'.join(map(str, inputs.shape))


def measure(calls: Dict[str, dict], steps: int,
            warmup: int) -> Dict[str, Dict[str, List[float]]]:
    """Round-robin timing: each round calls every function once. Returns
    the wall and the CPU (``time.process_time``) seconds of each call."""
    times = {clock: {name: [] for name in calls} for clock in CLOCKS}
    for round_ in range(warmup + steps):
        for name, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            call['fn']()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if round_ >= warmup:
                times['wall'][name].append(wall)
                times['cpu'][name].append(cpu)
    return times


def summarise(methods: List[str], times: Dict[str, List[float]],
              calls: Dict[str, dict]) -> List[dict]:
    """Per method: medians of the method, its twin and its inherent parts,
    and the overheads relative to the twin."""
    med = {name: statistics.median(t) for name, t in times.items()}
    rows = []
    for method in methods:
        label, twin, parts, what = METHODS[method]
        inherent = sum(med[p] for p in parts)
        plain = med[twin]
        rows.append(
            dict(method=label, key=method, twin=TWINS[twin],
                 plain_s=plain, method_s=med[method], inherent_s=inherent,
                 inherent_what=what,
                 overhead=(med[method] - plain) / plain,
                 non_inherent=(med[method] - plain - inherent) / plain,
                 method_input=calls[method]['shape'],
                 twin_input=calls[twin]['shape']))
    return rows


def print_table(rows: List[dict], clock: str, args) -> None:
    what = dict(cpu='CPU time of the process (time.process_time)',
                wall='wall time')[clock]
    print(f'\nTraining step, {what}, median of {args.steps} round-robin '
          f'rounds ({args.warmup} warm-up), {args.size}x{args.size} crops, '
          f'{args.threads} CPU thread(s)')
    print('| method | plain twin | plain s/step | method s/step | '
          'inherent extra work | inherent s | total overhead | '
          'non-inherent overhead |')
    print('|---|---|---:|---:|---|---:|---:|---:|')
    for r in rows:
        print(f'| {r["method"]} | {r["twin"]} | {r["plain_s"]:.3f} | '
              f'{r["method_s"]:.3f} | {r["inherent_what"]} | '
              f'{r["inherent_s"]:.3f} | {100 * r["overhead"]:+.1f} % | '
              f'{100 * r["non_inherent"]:+.1f} % |')


def main(argv=None) -> Dict[str, List[dict]]:
    args = parse_args(argv)
    import torch
    from mmengine.logging import MMLogger
    threads = torch.get_num_threads()
    logger = MMLogger.get_current_instance()
    level = logger.level
    torch.set_num_threads(args.threads)
    logger.setLevel('WARNING')  # no per-parameter init_weights report
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_root = args.data_root or generate_data(tmp, args.size)
            calls = prepare(args.methods, data_root, args.size)
            times = measure(calls, args.steps, args.warmup)
    finally:
        torch.set_num_threads(threads)
        logger.setLevel(level)
    results = {
        clock: summarise(args.methods, times[clock], calls)
        for clock in CLOCKS
    }
    for clock in CLOCKS:
        print_table(results[clock], clock, args)
    print('\ninputs per step:')
    for r in results['cpu']:
        print(f'  {r["method"]}: {r["method_input"]}; twin: '
              f'{r["twin_input"]}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(results=results, times=times, args=vars(args)),
                      f, indent=1)
    return results


if __name__ == '__main__':
    main()
