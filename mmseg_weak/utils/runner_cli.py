"""The command-line side that ``tools/train.py`` and ``tools/test.py`` share.

Both take MMSeg 1.2.2's ``--cfg-options``, ``--launcher`` and
``--local_rank`` plus our ``--data-root`` / ``--classes`` (a VOC-format
dataset of one's own), build the run's config from them in the same way and
build the Runner for this machine in the same way.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from .checkpoint import register_checkpoint_safe_globals
from .dataset_override import apply_dataset_options
from .dist_utils import quiet_runner_console, setup_cpu_distributed

__all__ = [
    'add_runner_args', 'parse_runner_args', 'load_runner_config',
    'build_runner'
]


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the options that every Runner tool takes.

    ``--cfg-options``, ``--data-root``, ``--classes``, ``--launcher`` and
    ``--local_rank`` (alias ``--local-rank``, as ``torch.distributed.launch``
    passes it).

    Args:
        parser (argparse.ArgumentParser): The tool's parser, which already
            has its positional ``config`` argument and its own options.
    """
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


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line and export ``LOCAL_RANK`` when the launcher
    gave it as an argument only.

    Args:
        parser (argparse.ArgumentParser): A parser with
            :func:`add_runner_args`.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_runner_config(args: argparse.Namespace) -> Config:
    """The run's config, as MMSeg's ``tools/train.py`` and ``test.py`` build
    it, with our dataset options.

    The config file ``args.config`` with ``launcher``, the ``--cfg-options``
    merged, the ``--data-root`` / ``--classes`` applied
    (:func:`~mmseg_weak.utils.apply_dataset_options`) and ``work_dir`` set
    by priority: ``--work-dir``, else the config's, else
    ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Arguments with ``config``, ``work_dir``
            and those of :func:`add_runner_args`.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root is not None or args.classes is not None:
        apply_dataset_options(cfg, args.data_root, args.classes)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config, show_config: bool = True) -> Runner:
    """The Runner of ``cfg`` on this machine.

    mmengine checkpoints are made loadable under torch's ``weights_only``
    default (:func:`~mmseg_weak.utils.register_checkpoint_safe_globals`), a
    machine without CUDA gets the CPU setup of
    :func:`~mmseg_weak.utils.setup_cpu_distributed` (for ``cfg.launcher``),
    the console output is shortened (:func:`~mmseg_weak.utils.dist_utils.
    quiet_runner_console`), and the Runner is built as MMSeg's
    ``tools/train.py`` builds it (from ``runner_type`` when the config has
    one).

    Args:
        cfg (Config): The run's config (:func:`load_runner_config`).
        show_config (bool): Print the config (compactly) on the console;
            False prints one line naming the file (``tools/test.py``: the
            training printed it). Defaults to True.

    Returns:
        Runner: The runner.
    """
    register_checkpoint_safe_globals()
    cfg = setup_cpu_distributed(cfg, cfg.launcher)
    quiet_runner_console(show_config=show_config)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
