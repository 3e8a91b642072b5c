"""Train a segmentor (MMSegmentation 1.x ``tools/train.py`` CLI) on GPU or CPU.

Differences to MMSeg's launcher: mmengine checkpoints are made loadable with
torch >= 2.6's ``weights_only`` default (for ``--resume``/``load_from``), and
without CUDA distributed runs use a ``gloo`` process group, BN instead of
SyncBN, BN statistics averaged over the ranks (``IterSyncBuffersHook``) and a
CPU model wrapper (see :mod:`mmseg_weak.utils.dist_utils`).

Under ``torchrun`` (``tools/dist_train.sh``) each rank dies with the torchrun
agent, even when that is killed with ``kill -9``. The console gets a compact
config and no known third-party deprecation warnings; the log file in the
work dir has mmengine's full output.
"""
import os

# The torchrun agent that started this process, read before the slow imports
# (see mmseg_weak.utils.dist_utils.exit_with_launcher).
_PARENT_PID = os.getppid()

import argparse
import logging
import sys

from mmengine.device import get_device
from mmengine.logging import print_log

from mmseg_weak.utils import cleanup_distributed, ignore_known_warnings
from mmseg_weak.utils.dist_utils import exit_with_launcher
from mmseg_weak.utils.runner_cli import (add_runner_args, build_runner,
                                         load_runner_config, parse_runner_args)

ignore_known_warnings()

# devices on which mmengine's AmpOptimWrapper works
AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as MMSeg 1.2.2)."""
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (needs a GPU)')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    """Build the config and the Runner, then train."""
    args = parse_args()
    if args.launcher == 'pytorch':
        exit_with_launcher(_PARENT_PID)

    cfg = load_runner_config(args)

    amp_in_cfg = cfg.get('optim_wrapper', {}).get('type') == 'AmpOptimWrapper'
    if (args.amp or amp_in_cfg) and get_device() not in AMP_DEVICES:
        sys.exit('error: automatic mixed precision (--amp or '
                 "optim_wrapper.type='AmpOptimWrapper') needs a CUDA/NPU/MLU/"
                 "MUSA device; mmengine's AmpOptimWrapper does not run on "
                 f'{get_device()!r}. Train without --amp on this machine.')
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            assert optim_wrapper == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    cfg.resume = args.resume

    runner = build_runner(cfg, show_config=True)
    runner.train()

    # Drop the (DDP-wrapped) model before tearing the process group down.
    # Reached only on success: destroying the group while a failed peer is
    # still inside a collective would hang; torchrun cleans up failed runs.
    del runner
    cleanup_distributed()


if __name__ == '__main__':
    main()
