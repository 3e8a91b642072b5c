"""Cyclic pseudo-masks: retrain on the model's own predictions.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021 (https://arxiv.org/abs/2108.12995), Sec. 3.5.
"""
import copy
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import (all_reduce, barrier, broadcast_object_list,
                           get_dist_info, is_main_process)
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import IterBasedTrainLoop
from PIL import Image

from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import DATASETS, HOOKS, MODELS
from ...utils.supervision import PSEUDO_MASK

__all__ = ['CyclicPseudoMaskHook', 'write_label_png']

_META_KEY = 'cyclic_pseudo_mask'
_MANIFEST = 'manifest.json'


def write_label_png(path: str, label: np.ndarray,
                    palette: Optional[Sequence[Sequence[int]]]) -> None:
    """Write a ``uint8`` label map as a palette PNG, atomically (a temporary
    file in the same folder, then :func:`os.replace`)."""
    if label.ndim != 2:
        raise ValueError(f'{path}: a label map must be 2-D, got shape '
                         f'{label.shape}')
    img = Image.fromarray(label.astype(np.uint8), mode='P')
    if palette is not None:
        flat = [int(v) for color in palette for v in color]
        img.putpalette(flat + [0] * (768 - len(flat)))
    tmp = f'{path}.{os.getpid()}.tmp'
    img.save(tmp, format='PNG')
    os.replace(tmp, path)


def _pseudo_mask_datasets(node) -> List[dict]:
    """The configs of the ``supervision='pseudo_mask'`` datasets inside a
    (possibly nested: ``ConcatDataset``, ``RepeatDataset``...) dataset
    config, in order."""
    found = []
    if isinstance(node, dict):
        if node.get('supervision') == PSEUDO_MASK:
            found.append(node)
            return found
        for key in ('dataset', 'datasets'):
            if key in node:
                found += _pseudo_mask_datasets(node[key])
    elif isinstance(node, (list, tuple)):
        for item in node:
            found += _pseudo_mask_datasets(item)
    return found


@HOOKS.register_module()
class CyclicPseudoMaskHook(Hook):
    """Ends training rounds by predicting new pseudo-masks for the training
    set and switching the training data to them (Sec. 3.5 of the paper).

    At the end of every round (after iteration ``round_iters[k]``, counted
    from the start of training) the hook

    1. predicts every image of the training set's pseudo-mask datasets
       (``supervision='pseudo_mask'`` in ``train_dataloader``) with the
       current model, through ``predict_pipeline`` (optionally MMSeg's TTA:
       multi-scale + flip, and a dense CRF on the class probabilities);
       under DDP each rank predicts the images ``rank, rank + world, ...``;
    2. writes them as palette PNGs into ``<work_dir>/<out_dir>/round_<k>.tmp``;
       when every rank is done, rank 0 checks that exactly the expected files
       exist, writes ``manifest.json`` (ids, iteration, mIoU) and renames the
       folder to ``round_<k>``: a crash leaves only a ``.tmp`` folder, which
       is never used and is removed when the round is predicted again;
    3. rebuilds the training dataloader with ``data_prefix.pseudo_path`` of
       those datasets pointing at ``round_<k>``;
    4. optionally turns the PUS loss off (``disable_pus``) and restarts from
       the initial weights (``restart``: the weights at the start of
       training, saved as ``<out_dir>/initial_weights.pth``; the optimizer
       state is cleared and every parameter group's lr reset to its
       ``initial_lr``, so give each round its own scheduler segment, e.g.
       ``PolyLR(begin=0, end=20000)`` and ``PolyLR(begin=20000,
       end=40000)``). The restart happens before the next round's first
       iteration, so that the validation and the checkpoint at the round's
       last iteration hold the model the round trained;
    5. logs the pseudo-mask mIoU against the ground truth
       (``gt_seg_map_path``) when the dataset has it
       (``cyclic/round_<k>_pseudo_mIoU``).

    The completed round (and a pending restart) is stored in checkpoints
    (``meta``); after ``--resume`` the hook switches the data (and PUS) to
    the last completed round, restarting the weights if the checkpoint was
    saved at a round's end, before training continues.

    Args:
        round_iters (Sequence[int]): Iterations after which a round ends,
            increasing (e.g. ``[20000]`` with ``max_iters=40000``: one cyclic
            round).
        predict_pipeline (list[dict]): Test-time pipeline of the training
            images (load, resize, ``PackWeakSegInputs``). With ``tta=True``
            a ``TestTimeAug`` pipeline (e.g. the config's ``tta_pipeline``).
        out_dir (str): Folder of the rounds, relative to ``work_dir`` unless
            absolute. Defaults to ``'pseudo_masks'``.
        tta (bool): Wrap the model in the config's ``tta_model`` (MMSeg's
            ``SegTTAModel``) to merge the augmented predictions. Defaults to
            False.
        crf (dict, optional): A ``DenseCRF`` config: post-process the
            softmax of the predicted logits on the original image.
        restrict_to_image_labels (bool): Remove classes absent from the
            image-level labels (``gt_img_labels``, e.g. loaded by
            ``LoadImageLabels`` in ``predict_pipeline``) before the argmax;
            the background (class 0) always stays. Defaults to False.
        disable_pus (bool): Switch every ``PUSLoss`` of the model off after
            the first round (the paper trains the cyclic round without PUS).
            Defaults to True.
        restart (bool): Restart every round from the initial weights (with
            a fresh optimizer state and lr). Defaults to True.
    """

    # after the ParamSchedulerHook (LOW, 70), before the CheckpointHook
    # (VERY_LOW, 90): a checkpoint saved at the round's last iteration holds
    # the new round
    priority = 80

    def __init__(self,
                 round_iters: Sequence[int],
                 predict_pipeline: List[dict],
                 out_dir: str = 'pseudo_masks',
                 tta: bool = False,
                 crf: Optional[dict] = None,
                 restrict_to_image_labels: bool = False,
                 disable_pus: bool = True,
                 restart: bool = True) -> None:
        round_iters = [int(i) for i in round_iters]
        if not round_iters or any(i <= 0 for i in round_iters) or any(
                a >= b for a, b in zip(round_iters, round_iters[1:])):
            raise ValueError('round_iters must be positive and increasing, '
                             f'got {round_iters}')
        if not predict_pipeline:
            raise ValueError('predict_pipeline is required')
        self.round_iters = round_iters
        self.predict_pipeline = list(predict_pipeline)
        self.out_dir = out_dir
        self.tta = tta
        self.crf_cfg = crf
        self.restrict_to_image_labels = restrict_to_image_labels
        self.disable_pus = disable_pus
        self.restart = restart
        #: number of completed rounds (0: training on the initial masks)
        self.round = 0
        #: the weights restart before the next training iteration
        self.restart_pending = False
        self._crf = None

    # ------------------------------------------------------------------
    # paths
    # ------------------------------------------------------------------
    def _root(self, runner) -> str:
        return self.out_dir if osp.isabs(self.out_dir) else osp.join(
            runner.work_dir, self.out_dir)

    def round_dir(self, runner, k: int) -> str:
        """Folder of the pseudo-masks predicted at the end of round ``k``."""
        return osp.join(self._root(runner), f'round_{k}')

    def _initial_weights(self, runner) -> str:
        return osp.join(self._root(runner), 'initial_weights.pth')

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    # ------------------------------------------------------------------
    # hook points
    # ------------------------------------------------------------------
    def before_train(self, runner) -> None:
        if self.restart and self.round == 0:
            path = self._initial_weights(runner)
            if is_main_process() and not osp.exists(path):
                os.makedirs(osp.dirname(path), exist_ok=True)
                state = {
                    k: v.detach().cpu()
                    for k, v in self._model(runner).state_dict().items()
                }
                torch.save(state, path + '.tmp')
                os.replace(path + '.tmp', path)
            barrier()
        if self.round > 0:  # resumed inside a later round
            self._check_round(runner, self.round)
            self._switch_data(runner, self.round)
            self._switch_pus(runner)
            if self.restart_pending:
                self._restart(runner)
            print_log(
                f'CyclicPseudoMaskHook: resumed in round {self.round}, '
                f'training on {self.round_dir(runner, self.round)}',
                logger='current')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self.restart_pending:
            self._restart(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        done = runner.iter + 1
        if self.round < len(self.round_iters) and \
                done == self.round_iters[self.round]:
            self.end_round(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[_META_KEY] = dict(
            round=self.round, restart_pending=self.restart_pending)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(_META_KEY)
        if state is not None:
            self.round = int(state['round'])
            self.restart_pending = bool(state.get('restart_pending', False))

    # ------------------------------------------------------------------
    # a round
    # ------------------------------------------------------------------
    def end_round(self, runner) -> None:
        """Predict, publish, switch the data and restart (one round)."""
        k = self.round + 1
        stats = self.predict_round(runner, k)
        self.round = k
        self._switch_data(runner, k)
        self._switch_pus(runner)
        self.restart_pending = self.restart
        msg = f'CyclicPseudoMaskHook: round {k} pseudo-masks in ' \
              f'{self.round_dir(runner, k)} ({stats["num_images"]} images)'
        if stats.get('mIoU') is not None:
            msg += f', mIoU vs ground truth {stats["mIoU"]:.2f}'
            runner.message_hub.update_scalar(f'cyclic/round_{k}_pseudo_mIoU',
                                             stats['mIoU'])
        print_log(msg, logger='current')

    def _predict_datasets(self, runner) -> List:
        cfgs = _pseudo_mask_datasets(runner.cfg.train_dataloader.dataset)
        if not cfgs:
            raise ValueError(
                'CyclicPseudoMaskHook: train_dataloader has no dataset with '
                "supervision='pseudo_mask' whose masks a round could replace")
        datasets = []
        for cfg in cfgs:
            cfg = copy.deepcopy(cfg)
            cfg['pipeline'] = copy.deepcopy(self.predict_pipeline)
            cfg['indices'] = None
            if self.round > 0:  # image list is the same; masks are not read
                cfg['data_prefix'] = dict(
                    cfg.get('data_prefix', {}),
                    pseudo_path=self.round_dir(runner, self.round))
            datasets.append(DATASETS.build(cfg))
        return datasets

    def _predictor(self, runner) -> torch.nn.Module:
        model = self._model(runner)
        if not self.tta:
            return model
        if 'tta_model' not in runner.cfg:
            raise ValueError('CyclicPseudoMaskHook(tta=True) needs tta_model '
                             'in the config')
        tta_cfg = copy.deepcopy(runner.cfg.tta_model)
        tta_cfg['module'] = model
        return MODELS.build(tta_cfg)

    def _label_map(self, sample, img_path: str) -> np.ndarray:
        logits = sample.seg_logits.data  # (C, H, W)
        if self.crf_cfg is not None:
            if self._crf is None:
                self._crf = MODELS.build(self.crf_cfg)
            image = mmcv.imread(img_path, channel_order='rgb')
            if image.shape[:2] != tuple(logits.shape[-2:]):
                raise ValueError(
                    f'{img_path}: image size {image.shape[:2]} differs from '
                    f'the prediction {tuple(logits.shape[-2:])}')
            probs = torch.softmax(logits.float(), dim=0)[None]
            img = torch.from_numpy(image).permute(2, 0, 1)[None].float()
            logits = self._crf(probs, img.to(probs.device))[0]
        if self.restrict_to_image_labels:
            labels = sample.get('gt_img_labels')
            if labels is None:
                raise ValueError(
                    f'{img_path}: restrict_to_image_labels=True needs '
                    'gt_img_labels (add LoadImageLabels to predict_pipeline)')
            keep = labels.to(logits.device).bool().clone()
            keep[0] = True
            logits = logits.masked_fill(~keep[:, None, None], -float('inf'))
        return logits.argmax(dim=0).cpu().numpy().astype(np.uint8)

    @torch.no_grad()
    def predict_round(self, runner, k: int) -> Dict:
        """Predict the training set into ``round_<k>`` (see class doc)."""
        rank, world_size = get_dist_info()
        final = self.round_dir(runner, k)
        tmp = final + '.tmp'
        if is_main_process():
            if osp.exists(final):  # a resumed run re-predicts the round
                shutil.rmtree(final)
            if osp.exists(tmp):
                shutil.rmtree(tmp)
            os.makedirs(tmp)
        barrier()
        datasets = self._predict_datasets(runner)
        predictor = self._predictor(runner)
        was_training = predictor.training
        predictor.eval()
        num_classes = len(datasets[0].metainfo['classes'])
        palette = datasets[0].metainfo.get('palette')
        area = torch.zeros(2, num_classes, dtype=torch.float64)
        has_gt = True
        expected = []
        for dataset in datasets:
            suffix = getattr(dataset, 'seg_map_suffix', '.png')
            ids = [self._img_id(dataset, i) for i in range(len(dataset))]
            if len(set(ids)) != len(ids):
                raise ValueError('CyclicPseudoMaskHook: duplicate image ids '
                                 'in the pseudo-mask datasets')
            expected += [i + suffix for i in ids]
            for index in range(rank, len(dataset), world_size):
                info = dataset.get_data_info(index)
                batch = pseudo_collate([dataset[index]])
                sample = predictor.test_step(batch)[0]
                label = self._label_map(sample, info['img_path'])
                write_label_png(osp.join(tmp, ids[index] + suffix), label,
                                palette)
                gt_path = info.get('gt_seg_map_path')
                if gt_path and osp.exists(gt_path):
                    area += self._areas(label, gt_path, num_classes,
                                        dataset, info)
                else:
                    has_gt = False
        if was_training:
            predictor.train()
        if len(set(expected)) != len(expected):
            raise ValueError('CyclicPseudoMaskHook: two pseudo-mask datasets '
                             'share image ids')
        all_reduce(area)
        flag = torch.tensor([float(has_gt)])
        all_reduce(flag, op='min')
        barrier()
        iteration = self.round_iters[k - 1] if k <= len(
            self.round_iters) else None
        stats = dict(round=k, iteration=iteration, num_images=len(expected),
                     mIoU=None)
        if flag.item() > 0 and area[1].sum() > 0:
            present = area[1] > 0
            iou = area[0][present] / area[1][present]
            stats['mIoU'] = float(iou.mean() * 100)
        if is_main_process():
            written = sorted(f for f in os.listdir(tmp)
                             if not f.endswith('.tmp'))
            if written != sorted(expected):
                missing = sorted(set(expected) - set(written))[:5]
                extra = sorted(set(written) - set(expected))[:5]
                raise RuntimeError(
                    f'CyclicPseudoMaskHook: round {k} in {tmp} is incomplete '
                    f'(missing e.g. {missing}, unexpected {extra}); it is not '
                    'used')
            with open(osp.join(tmp, _MANIFEST), 'w') as f:
                json.dump(dict(stats, files=sorted(expected)), f)
            os.rename(tmp, final)
        barrier()
        result = [stats]
        broadcast_object_list(result)
        return result[0]

    @staticmethod
    def _img_id(dataset, index: int) -> str:
        info = dataset.get_data_info(index)
        img_id = info.get('img_id')
        if img_id is None:
            img_id = osp.splitext(osp.basename(info['img_path']))[0]
        return img_id

    @staticmethod
    def _areas(label: np.ndarray, gt_path: str, num_classes: int, dataset,
               info: dict) -> torch.Tensor:
        """``(2, num_classes)`` intersection and union areas vs the GT."""
        gt = mmcv.imread(gt_path, flag='unchanged', backend='pillow')
        label_map = getattr(dataset, 'label_map', None) or info.get(
            'label_map')
        if label_map:
            mapped = np.full_like(gt, 255)
            for old, new in label_map.items():
                mapped[gt == old] = new
            gt = mapped
        if gt.shape != label.shape:
            raise ValueError(f'{gt_path}: ground truth {gt.shape} and '
                             f'prediction {label.shape} differ in size')
        inter, union, _, _ = IoUMetric.intersect_and_union(
            torch.from_numpy(label.astype(np.int64)),
            torch.from_numpy(gt.astype(np.int64)), num_classes,
            getattr(dataset, 'ignore_index', 255))
        return torch.stack([inter, union]).double()

    def _check_round(self, runner, k: int) -> None:
        final = self.round_dir(runner, k)
        if not osp.isfile(osp.join(final, _MANIFEST)):
            raise FileNotFoundError(
                f'CyclicPseudoMaskHook: the checkpoint is in round {k} but '
                f'{final} (with {_MANIFEST}) does not exist')

    # ------------------------------------------------------------------
    # switching
    # ------------------------------------------------------------------
    def _switch_data(self, runner, k: int) -> None:
        cfg = copy.deepcopy(runner.cfg.train_dataloader)
        for ds in _pseudo_mask_datasets(cfg.dataset):
            ds['data_prefix'] = dict(
                ds.get('data_prefix', {}),
                pseudo_path=self.round_dir(runner, k))
        loader = runner.build_dataloader(
            cfg,
            seed=runner.seed,
            diff_rank_seed=(getattr(runner, '_randomness_cfg', None)
                            or {}).get('diff_rank_seed', False))
        loop = runner.train_loop
        loop.dataloader = loader
        if isinstance(loop, IterBasedTrainLoop):
            from mmengine.runner.loops import _InfiniteDataloaderIterator
            loop.dataloader_iterator = _InfiniteDataloaderIterator(loader)

    def _switch_pus(self, runner) -> None:
        if not self.disable_pus or self.round == 0:
            return
        from ...models.losses import set_pus_enabled
        set_pus_enabled(self._model(runner), False)

    def _restart(self, runner) -> None:
        path = self._initial_weights(runner)
        if not osp.exists(path):
            raise FileNotFoundError(
                f'CyclicPseudoMaskHook(restart=True): {path} (the weights at '
                'the start of training) is missing')
        state = torch.load(path, map_location='cpu', weights_only=True)
        self._model(runner).load_state_dict(state)
        optimizer = runner.optim_wrapper.optimizer
        optimizer.state.clear()
        for group in optimizer.param_groups:
            if 'initial_lr' in group:
                group['lr'] = group['initial_lr']
        self.restart_pending = False
        print_log('CyclicPseudoMaskHook: restarted from the initial weights',
                  logger='current')
