"""Measure the inference speed (images / s) of a segmentor.

Equivalent of MMSegmentation's ``tools/analysis_tools/benchmark.py``, usable
on CPU: the model runs in ``predict`` mode on batches of one image from the
validation dataloader (``--split test`` for the test dataloader), the first
``--num-warmup`` iterations are not timed, and CUDA is synchronised around
each timed step only when the model runs on a GPU. Unlike MMSeg's tool the
checkpoint is optional (random weights otherwise), and a dataloader shorter
than ``--num-iters`` is iterated again until enough images were timed.

The result is printed and written to ``<work-dir>/fps_<timestamp>.json``.
"""
import argparse
import os.path as osp
import time
from typing import Any, Dict, Iterator, List

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.fileio import dump
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint
from mmengine.utils import mkdir_or_exist
from mmseg.registry import MODELS

from mmseg_weak.utils import (ignore_known_warnings,
                              register_checkpoint_safe_globals)

ignore_known_warnings()


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='MMSeg benchmark a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file (optional; random weights without it)')
    parser.add_argument(
        '--log-interval', type=int, default=50, help='interval of logging')
    parser.add_argument(
        '--work-dir',
        help=('if specified, the results will be dumped '
              'into the directory as json'))
    parser.add_argument('--repeat-times', type=int, default=1)
    parser.add_argument(
        '--num-iters',
        type=int,
        default=200,
        help='number of timed + warm-up images per repetition')
    parser.add_argument(
        '--num-warmup',
        type=int,
        default=5,
        help='first iterations that are run but not timed')
    parser.add_argument(
        '--split',
        choices=['val', 'test'],
        default='val',
        help='dataloader to read images from')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config (key=value)')
    args = parser.parse_args()
    if args.num_iters <= args.num_warmup:
        parser.error('--num-iters must be larger than --num-warmup')
    return args


def _cycle(loader: Any) -> Iterator[Any]:
    """Iterate over a dataloader forever (re-creating its iterator)."""
    while True:
        empty = True
        for data in loader:
            empty = False
            yield data
        if empty:
            raise RuntimeError('the benchmark dataloader is empty')


def _sync(device: torch.device) -> None:
    """Wait for pending GPU work (no-op on CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def benchmark_once(model: torch.nn.Module, loader: Any, num_iters: int,
                   num_warmup: int, log_interval: int,
                   device: torch.device) -> float:
    """Time ``num_iters - num_warmup`` single-image predictions.

    Args:
        model: The segmentor (in eval mode, on ``device``).
        loader: Dataloader yielding mmseg batches of one image.
        num_iters: Total iterations including warm-up.
        num_warmup: Untimed first iterations.
        log_interval: Print the running fps every this many iterations.
        device: Device the model runs on.

    Returns:
        float: Images per second over the timed iterations.
    """
    pure_inf_time = 0.0
    for i, data in enumerate(_cycle(loader)):
        if i == num_iters:
            break
        with torch.no_grad():
            data = model.data_preprocessor(data, False)
            _sync(device)
            start = time.perf_counter()
            model(data['inputs'], data['data_samples'], mode='predict')
            _sync(device)
            elapsed = time.perf_counter() - start
        if i >= num_warmup:
            pure_inf_time += elapsed
            if (i + 1) % log_interval == 0:
                fps = (i + 1 - num_warmup) / pure_inf_time
                print(f'Done image [{i + 1:<3}/ {num_iters}], '
                      f'fps: {fps:.2f} img / s', flush=True)
    return (num_iters - num_warmup) / pure_inf_time


def main() -> None:
    """Build model and dataloader, then benchmark."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    register_checkpoint_safe_globals()

    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    work_dir = args.work_dir or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    mkdir_or_exist(osp.abspath(work_dir))
    json_file = osp.join(work_dir, f'fps_{timestamp}.json')

    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cudnn.benchmark = False
    cfg.model.pretrained = None
    cfg.model.train_cfg = None
    loader_cfg = cfg.get(f'{args.split}_dataloader')
    loader_cfg.batch_size = 1

    benchmark_dict: Dict[str, Any] = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        device=str(device),
        num_threads=torch.get_num_threads(),
        num_iters=args.num_iters,
        num_warmup=args.num_warmup,
        unit='img / s')
    overall_fps_list: List[float] = []
    for time_index in range(args.repeat_times):
        print(f'Run {time_index + 1}:', flush=True)
        data_loader = Runner.build_dataloader(loader_cfg)
        model = MODELS.build(cfg.model)
        if args.checkpoint is not None:
            load_checkpoint(model, args.checkpoint, map_location='cpu')
        model = revert_sync_batchnorm(model).to(device)
        model.eval()

        fps = benchmark_once(model, data_loader, args.num_iters,
                             args.num_warmup, args.log_interval, device)
        print(f'Overall fps: {fps:.2f} img / s\n', flush=True)
        benchmark_dict[f'overall_fps_{time_index + 1}'] = round(fps, 2)
        overall_fps_list.append(fps)

    benchmark_dict['average_fps'] = round(float(np.mean(overall_fps_list)), 2)
    benchmark_dict['fps_variance'] = round(float(np.var(overall_fps_list)), 4)
    print(f'Average fps of {args.repeat_times} evaluations: '
          f'{benchmark_dict["average_fps"]}')
    print(f'The variance of {args.repeat_times} evaluations: '
          f'{benchmark_dict["fps_variance"]}')
    dump(benchmark_dict, json_file, indent=4)
    print(f'Results written to {json_file}')


if __name__ == '__main__':
    main()
