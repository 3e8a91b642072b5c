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

import warnings  # noqa: E402

# Known deprecation warnings of the dependencies, nothing we can act on
# (these exact messages only; everything else is still shown).
warnings.filterwarnings(
    'ignore',
    message='pkg_resources is deprecated as an API',
    category=UserWarning,
    module=r'(mmengine\.utils\.package_utils|importlib)$')
warnings.filterwarnings(
    'ignore',
    message='``build_loss`` would be deprecated soon',
    category=UserWarning,
    module=r'mmseg\.models\.builder$')
warnings.filterwarnings(
    'ignore',
    message='`broadcast_buffers` is deprecated',
    category=FutureWarning,
    module=r'mmengine\.model\.wrappers\.distributed$')

import argparse  # noqa: E402
import logging  # noqa: E402
import os.path as osp  # noqa: E402
import sys  # noqa: E402

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.device import get_device  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmseg.registry import RUNNERS  # noqa: E402
from mmseg_weak.utils import (apply_dataset_options,  # noqa: E402
                              cleanup_distributed,
                              register_checkpoint_safe_globals,
                              setup_cpu_distributed)
from mmseg_weak.utils.dist_utils import (exit_with_launcher,  # noqa: E402
                                         quiet_runner_console)

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
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--data-root',
        help='train/test on a VOC-format dataset of your own in this folder '
        '(every dataset of the config; see docs/en/data.md "Your own '
        'VOC-format dataset")')
    parser.add_argument(
        '--classes',
        nargs='+',
        help="its classes in the order of their ids, 'background' first "
        '(sets every dataset\'s classes and every num_classes of the '
        'config)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank; torchrun only sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    """Build the config and the Runner, then train."""
    args = parse_args()
    if args.launcher == 'pytorch':
        exit_with_launcher(_PARENT_PID)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root is not None or args.classes is not None:
        apply_dataset_options(cfg, args.data_root, args.classes)

    # work_dir priority: CLI > config file > config file name
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

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

    register_checkpoint_safe_globals()
    cfg = setup_cpu_distributed(cfg, args.launcher)
    quiet_runner_console(show_config=True)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()

    # Drop the (DDP-wrapped) model before tearing the process group down.
    # Reached only on success: destroying the group while a failed peer is
    # still inside a collective would hang; torchrun cleans up failed runs.
    del runner
    cleanup_distributed()


if __name__ == '__main__':
    main()
