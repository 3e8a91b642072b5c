"""Throughput (images / s) of the prediction pass of
:class:`~mmseg_weak.engine.hooks.CyclicPseudoMaskHook` (Pseudo-mask Matters:
predict the relabelled training images and write them as pseudo-mask PNGs)
against MMSeg's testing of the same checkpoint on the same images.

- hook: ``CyclicPseudoMaskHook.predict_round`` as the config's hook is set
  up (its ``predict_pipeline``, TTA and label restriction settings), end to
  end: dataloader, ``test_step``, probabilities, PNG writing, the
  ground-truth mIoU, the manifest and the publication of the round;
- test: MMEngine's ``TestLoop`` (what ``tools/test.py`` / ``runner.test()``
  run, without the runner's logging hooks) over the config's
  ``test_dataloader`` and ``test_evaluator`` (mIoU), its dataset pointed at
  the same images (``supervision='full'``, so that it loads the ground
  truth), end to end: dataloader, ``test_step``, metric.

Both load the same checkpoint (randomly initialised unless ``--checkpoint``
is given: throughput does not depend on the weights) into the same model,
read the images of a freshly generated VOC folder (``--images`` trainaug
images of 96-128 pixels) with ``--num-workers`` loader workers and run
alternately (hook, test, hook, test...; ``--warmup`` untimed rounds, then
``--repeats`` timed ones, median reported). ``--nproc 1 2`` also runs both
in 2 processes (``torch.distributed.run``, gloo on CPU), each with
``--threads`` threads: the images are split between the ranks.

Example::

    python tools/analysis_tools/benchmark_relabel.py --nproc 1 2
"""
import argparse
import copy
import json
import os
import os.path as osp
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace
from typing import List

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    ROOT, 'configs/pmm/pmm_pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py')
#: the clocks every pass is timed with
CLOCKS = ('wall', 'cpu')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='config with a CyclicPseudoMaskHook')
    parser.add_argument('--checkpoint', default=None,
                        help='weights (default: random, saved as a '
                        'checkpoint that both passes load)')
    parser.add_argument('--images', type=int, default=48,
                        help='generated training images to predict')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--nproc', type=int, nargs='+', default=[1],
                        help='process counts to measure (e.g. 1 2)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads per process')
    parser.add_argument('--num-workers', type=int, default=0,
                        help='dataloader workers of both passes')
    parser.add_argument('--data-root', default=None,
                        help='generated VOC2012 folder to reuse')
    parser.add_argument('--json', default=None,
                        help='also write the results to this file')
    parser.add_argument('--worker', metavar='WORK_DIR',
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def generate_data(out_dir: str, images: int) -> str:
    """A generated VOC folder with ``images`` trainaug images."""
    from mmseg_weak.testing import generate_synthetic_voc
    info = generate_synthetic_voc(
        out_dir, num_aug=images, num_train=min(4, images), num_val=2, seed=0)
    return info['data_root']


def load_config(path: str, data_root: str, num_workers: int):
    """The config on the generated data (the generated ground truth
    stands in for pseudo-masks that do not exist there)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path, format_python_code=False)
    stack = [cfg.train_dataloader.dataset, cfg.test_dataloader.dataset]
    while stack:
        ds = stack.pop()
        if ds.get('type') in ('ConcatDataset', 'RepeatDataset') or (
                'datasets' in ds or 'dataset' in ds):
            stack += list(ds.get('datasets', [])) + (
                [ds.dataset] if 'dataset' in ds else [])
            continue
        ds.data_root = data_root
        pseudo = ds.get('data_prefix', {}).get('pseudo_path')
        if pseudo and not osp.isdir(osp.join(data_root, pseudo)):
            ds.data_prefix.pseudo_path = 'SegmentationClassAug'
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        loader.num_workers = num_workers
        loader.persistent_workers = False
    cfg.model.pretrained = None
    return cfg


def hook_config(cfg) -> dict:
    """Arguments of the config's ``CyclicPseudoMaskHook``."""
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'CyclicPseudoMaskHook':
            hook = copy.deepcopy(dict(hook))
            hook.pop('type')
            hook.pop('priority', None)
            return hook
    raise ValueError('the config has no CyclicPseudoMaskHook')


def test_dataloader_cfg(cfg, hook) -> dict:
    """The config's ``test_dataloader`` on the hook's images: the first
    relabelled dataset (``supervision='full'``: the ground truth), the
    test pipeline."""
    runner = SimpleNamespace(cfg=cfg, work_dir='.')
    datasets = hook._predict_dataset_cfgs(runner)
    if len(datasets) != 1:
        raise ValueError('benchmark_relabel supports one relabelled dataset, '
                         f'the config has {len(datasets)}')
    loader = copy.deepcopy(cfg.test_dataloader)
    ds = copy.deepcopy(datasets[0])
    ds['supervision'] = 'full'
    ds['pipeline'] = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    ds.pop('with_boxes', None)
    loader['dataset'] = ds
    return loader


def run_passes(args, work_dir: str) -> dict:
    """Build the model, hook and test loop; time the passes alternately in
    this process (one rank of a distributed run, or the only one)."""
    import torch
    from mmengine.dist import barrier, get_rank
    from mmengine.evaluator import Evaluator
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, TestLoop, load_checkpoint
    from mmseg.registry import MODELS

    import mmseg_weak  # noqa: F401
    from mmseg_weak.engine.hooks import CyclicPseudoMaskHook
    from mmseg_weak.utils import register_checkpoint_safe_globals

    torch.set_num_threads(args.threads)
    MMLogger.get_current_instance().setLevel('WARNING')
    init_default_scope('mmseg')
    register_checkpoint_safe_globals()
    with open(osp.join(work_dir, 'setup.json')) as f:
        setup = json.load(f)
    cfg = load_config(args.config, setup['data_root'], args.num_workers)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, setup['checkpoint'], map_location='cpu',
                    strict=True, logger='silent')
    model.eval()
    hook = CyclicPseudoMaskHook(
        **dict(hook_config(cfg), out_dir=osp.join(work_dir, 'relabel')))
    runner = SimpleNamespace(
        cfg=cfg, work_dir=work_dir, model=model, seed=0,
        build_dataloader=Runner.build_dataloader, _randomness_cfg={},
        visualizer=SimpleNamespace(), call_hook=lambda *a, **k: None)
    loader_cfg = test_dataloader_cfg(cfg, hook)

    def hook_pass():
        return hook.predict_round(runner, 1)

    def test_pass():
        loop = TestLoop(runner, copy.deepcopy(loader_cfg),
                        Evaluator(copy.deepcopy(cfg.test_evaluator)))
        return loop.run()

    passes = dict(hook=hook_pass, test=test_pass)
    times = {clock: {name: [] for name in passes} for clock in CLOCKS}
    info = {}
    for round_ in range(args.warmup + args.repeats):
        for name, fn in passes.items():
            barrier()
            wall, cpu = time.perf_counter(), time.process_time()
            out = fn()
            barrier()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if round_ >= args.warmup:
                times['wall'][name].append(wall)
                times['cpu'][name].append(cpu)
            info[name] = out
    if get_rank() == 0:
        with open(osp.join(work_dir, 'relabel', 'round_1',
                           'manifest.json')) as f:
            images = len(json.load(f)['files'])
        test_miou = info['test'].get('mIoU')
        info = dict(images=images, hook_mIoU=info['hook']['mIoU'],
                    test_mIoU=None if test_miou is None else float(test_miou))
    return dict(times=times, info=info)


def _worker_main(args) -> None:
    """One rank under ``torch.distributed.run``: gloo group, the passes,
    the CPU times of all ranks summed into rank 0's result file."""
    import torch
    import torch.distributed as dist
    dist.init_process_group('gloo')
    result = run_passes(args, args.worker)
    cpu = torch.tensor([result['times']['cpu'][k] for k in ('hook', 'test')],
                       dtype=torch.float64)
    dist.all_reduce(cpu)  # the CPU time of every process of the run
    result['times']['cpu'] = dict(hook=cpu[0].tolist(), test=cpu[1].tolist())
    if dist.get_rank() == 0:
        with open(osp.join(args.worker, 'result.json'), 'w') as f:
            json.dump(result, f)
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def measure(args, nproc: int, work_dir: str) -> dict:
    """Times of ``nproc`` processes (a fresh output folder)."""
    run_dir = osp.join(work_dir, f'nproc{nproc}')
    os.makedirs(run_dir, exist_ok=True)
    for name in ('setup.json', ):
        with open(osp.join(work_dir, name)) as src, \
                open(osp.join(run_dir, name), 'w') as dst:
            dst.write(src.read())
    if nproc == 1:
        return run_passes(args, run_dir)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
        '--nproc_per_node', str(nproc), '--master_addr', '127.0.0.1',
        '--master_port', str(_free_port()),
        osp.abspath(__file__), '--config', args.config, '--repeats',
        str(args.repeats), '--warmup', str(args.warmup), '--threads',
        str(args.threads), '--num-workers', str(args.num_workers),
        '--worker', run_dir
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               PYTHONPATH=os.pathsep.join(
                   [ROOT] + [p for p in os.environ.get(
                       'PYTHONPATH', '').split(os.pathsep) if p]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f'{nproc} processes failed:\n'
                           f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    with open(osp.join(run_dir, 'result.json')) as f:
        return json.load(f)


def prepare(args, work_dir: str) -> None:
    """Data, random checkpoint (unless given), ``setup.json``."""
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmseg_weak  # noqa: F401
    init_default_scope('mmseg')
    data_root = args.data_root or generate_data(
        osp.join(work_dir, 'data'), args.images)
    checkpoint = args.checkpoint
    if checkpoint is None:
        cfg = load_config(args.config, data_root, args.num_workers)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        checkpoint = osp.join(work_dir, 'random_init.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
    with open(osp.join(work_dir, 'setup.json'), 'w') as f:
        json.dump(dict(data_root=data_root, checkpoint=checkpoint), f)


def summarise(nproc: int, result: dict) -> dict:
    images = result['info']['images']
    row = dict(nproc=nproc, images=images, info=result['info'])
    for clock in CLOCKS:
        med = {k: statistics.median(v)
               for k, v in result['times'][clock].items()}
        row[clock] = dict(
            hook_s=med['hook'], test_s=med['test'],
            hook_ips=images / med['hook'], test_ips=images / med['test'],
            ratio=med['test'] / med['hook'])
    return row


def print_table(rows: List[dict], args) -> None:
    print(f'\nCyclicPseudoMaskHook prediction pass vs TestLoop, '
          f'{rows[0]["images"]} images, median of {args.repeats} '
          f'alternating runs ({args.warmup} warm-up), {args.threads} '
          f'thread(s) per process, {args.num_workers} loader workers')
    print('| processes | hook img/s | test img/s | hook / test | '
          'hook CPU s/img | test CPU s/img | CPU ratio |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        w, c, n = r['wall'], r['cpu'], r['images']
        print(f'| {r["nproc"]} | {w["hook_ips"]:.1f} | {w["test_ips"]:.1f} | '
              f'{w["ratio"]:.2f} | {c["hook_s"] / n:.4f} | '
              f'{c["test_s"] / n:.4f} | {c["ratio"]:.2f} |')
    for r in rows:
        i = r['info']
        print(f'  {r["nproc"]} process(es): mIoU of the written masks '
              f'{i["hook_mIoU"]}, of the test {i["test_mIoU"]} (random '
              'weights; the hook restricts to the image labels)')


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    if args.worker:
        _worker_main(args)
        return []
    import torch
    from mmengine.logging import MMLogger
    threads = torch.get_num_threads()
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    rows = []
    try:
        with tempfile.TemporaryDirectory() as work_dir:
            prepare(args, work_dir)
            for nproc in args.nproc:
                rows.append(summarise(nproc, measure(args, nproc, work_dir)))
    finally:
        torch.set_num_threads(threads)
        logger.setLevel(level)
    print_table(rows, args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(rows=rows, args=vars(args)), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
