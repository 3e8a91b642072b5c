"""Test (and evaluate) a segmentor (MMSegmentation 1.x ``tools/test.py`` CLI).

Works on GPU and CPU: the checkpoint is loaded with torch's ``weights_only``
default thanks to :func:`mmseg_weak.utils.register_checkpoint_safe_globals`,
and without CUDA distributed runs use ``gloo`` (see
:mod:`mmseg_weak.utils.dist_utils`).

Under ``torchrun`` (``tools/dist_test.sh``) each rank dies with the torchrun
agent. The console shows no config (the training printed it; it is in the
log file) and no known third-party deprecation warnings.
"""
import os

# The torchrun agent that started this process, read before the slow imports
# (see mmseg_weak.utils.dist_utils.exit_with_launcher).
_PARENT_PID = os.getppid()

import argparse
import json
import os.path as osp

from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmseg_weak.utils import cleanup_distributed, ignore_known_warnings
from mmseg_weak.utils.dist_utils import exit_with_launcher
from mmseg_weak.utils.runner_cli import (add_runner_args, build_runner,
                                         load_runner_config, parse_runner_args)

ignore_known_warnings()


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as MMSeg 1.2.2)."""
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help=('if specified, the evaluation metric results will be dumped '
              'into the directory as json'))
    parser.add_argument(
        '--out',
        type=str,
        help='The directory to save output prediction for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; a relative '
        'path is taken inside the work dir (images land in '
        'SHOW_DIR/vis_data/vis_image)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    add_runner_args(parser)
    return parse_runner_args(parser)


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Turn on drawing in the config's visualization hook.

    Args:
        cfg: The config; modified in place.
        args: Parsed arguments (``show``, ``wait_time``, ``show_dir``).

    Returns:
        Config: ``cfg``.

    Raises:
        RuntimeError: When ``default_hooks`` has no ``visualization`` hook.
    """
    default_hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks. '
            'refer to usage '
            '"visualization=dict(type=\'SegVisualizationHook\')"')
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        # a relative --show-dir lives in the work dir, not in the cwd
        cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, args.show_dir)
    return cfg


def log_progress_every_tenth(runner: Runner) -> None:
    """Let the LoggerHook report at least every 10% of the test set (its
    default interval of 50 iterations is minutes of silence on a CPU)."""
    from mmengine.hooks import LoggerHook
    num = len(runner.test_dataloader)
    for hook in runner.hooks:
        if isinstance(hook, LoggerHook):
            hook.interval = max(1, min(hook.interval, num // 10))


def main() -> None:
    """Build the config and the Runner, then test."""
    args = parse_args()
    if args.launcher == 'pytorch':
        exit_with_launcher(_PARENT_PID)

    cfg = load_runner_config(args)

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        if isinstance(cfg.test_evaluator, (list, tuple)):
            evaluators = cfg.test_evaluator
        else:
            evaluators = [cfg.test_evaluator]
        for evaluator in evaluators:
            if isinstance(evaluator, (dict, ConfigDict)):
                evaluator['output_dir'] = args.out
                evaluator['keep_results'] = True

    # testing needs no training data: MMSeg's visualization hook asks for
    # runner.iter, which would otherwise build the train loop and its dataset
    # (e.g. pseudo-masks that exist only where the model was trained)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None
    runner = build_runner(cfg, show_config=False)
    log_progress_every_tenth(runner)
    metrics = runner.test()
    if is_main_process():
        # machine-readable summary next to the logs (read by the demo table)
        with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)

    # Drop the (DDP-wrapped) model before tearing the process group down.
    # Reached only on success: destroying the group while a failed peer is
    # still inside a collective would hang; torchrun cleans up failed runs.
    del runner
    cleanup_distributed()


if __name__ == '__main__':
    main()
