"""Cyclic pseudo-masks: retrain on the model's own predictions.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021 (https://arxiv.org/abs/2108.12995), Sec. 3.5.
"""
import copy
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import mmengine.fileio as fileio
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.dist import (all_reduce, barrier, broadcast_object_list,
                           is_main_process)
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import IterBasedTrainLoop
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import DATASETS, HOOKS

from ...utils.label_png import write_label_png
from ...utils.soft_maps import labels_from_soft_map
from ...utils.supervision import (BOX, FULL, IMAGE_LABEL, PSEUDO_MASK,
                                  check_supervision)
from .round_poly_lr import RoundPolyLR, check_round_iters, resolve_round_iters

__all__ = ['CyclicPseudoMaskHook']

_META_KEY = 'cyclic_pseudo_mask'
_MANIFEST = 'manifest.json'
#: supervisions whose datasets a round may relabel
_RELABELABLE = (IMAGE_LABEL, BOX, PSEUDO_MASK)


def _select_datasets(node, supervisions: Sequence[str]) -> List[dict]:
    """The leaf dataset configs (those with a ``supervision`` key) of
    ``supervisions`` inside a dataset config nested in ``ConcatDataset`` /
    ``RepeatDataset`` / ... (``datasets`` / ``dataset`` keys), in order."""
    found = []
    if isinstance(node, dict):
        if 'supervision' in node:
            if node['supervision'] in supervisions:
                found.append(node)
            return found
        for key in ('dataset', 'datasets'):
            if key in node:
                found += _select_datasets(node[key], supervisions)
    elif isinstance(node, (list, tuple)):
        for item in node:
            found += _select_datasets(item, supervisions)
    return found


def _data_prefix(ds_cfg: dict) -> dict:
    """``data_prefix`` of a dataset config; when the config leaves it to the
    dataset class's default, that default (read from the dataset built
    with ``lazy_init=True``, which loads no annotation)."""
    if ds_cfg.get('data_prefix'):
        return dict(ds_cfg['data_prefix'])
    dataset = DATASETS.build(dict(copy.deepcopy(ds_cfg), lazy_init=True))
    root = dataset.data_root or ''
    prefix = {}
    for key, value in dataset.data_prefix.items():
        if root and isinstance(value, str) and value.startswith(root):
            value = value[len(root):].lstrip('/\\')  # undo the data_root join
        prefix[key] = value
    return prefix


class _InfiniteIterator:
    """Cycles over a dataloader, calling its sampler's ``set_epoch`` at every
    new pass (an ``InfiniteSampler`` never ends a pass)."""

    def __init__(self, dataloader) -> None:
        self.dataloader = dataloader
        self.epoch = 0
        self._iterator = iter(dataloader)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._iterator)
        except StopIteration:
            self.epoch += 1
            sampler = getattr(self.dataloader, 'sampler', None)
            if not hasattr(sampler, 'set_epoch'):
                sampler = getattr(
                    getattr(self.dataloader, 'batch_sampler', None),
                    'sampler', None)
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(self.epoch)
            self._iterator = iter(self.dataloader)
            return next(self._iterator)


@HOOKS.register_module()
class CyclicPseudoMaskHook(Hook):
    """Ends training rounds by predicting new pseudo-masks for (part of) the
    training set and switching those datasets to them (Sec. 3.5 of the
    paper), for any segmentor whose ``test_step`` gives ``seg_logits``
    (``EncoderDecoder`` and its subclasses: ``SingleStageWSSS``,
    ``SelfCorrectingEncoderDecoder``, ``ContextAwareConsistency``...).

    At the end of every round (after iteration ``round_iters[k]``, counted
    from the start of training) the hook

    1. predicts every image of the ``train_dataloader`` datasets whose
       ``supervision`` is in ``supervisions`` (leaf datasets inside
       ``ConcatDataset`` / ``RepeatDataset`` / mmdet ``MultiSourceSampler``
       setups), each through ``predict_pipeline`` in a dataloader built by
       ``runner.build_dataloader`` (``DefaultSampler(shuffle=False,
       round_up=False)``: under DDP rank ``r`` predicts the images ``r, r +
       world, ...``) and the model's ``test_step``. Per image:

       - class probabilities at the original image size: the softmax of
         ``seg_logits``; with ``tta=True`` (a ``TestTimeAug``
         ``predict_pipeline``) the mean of the softmax over the
         augmentations, computed as MMSeg's ``SegTTAModel.merge_preds`` does
         before its argmax (same operations in the same order: the argmax is
         ``tools/test.py --tta``'s prediction, pixel for pixel);
       - ``restrict_to_image_labels``: only the channels of the image's
         labels (``gt_img_labels``, e.g. ``LoadImageLabels`` in
         ``predict_pipeline``) and the background are kept, renormalised;
       - ``post_pipeline``: data transforms run on ``dict(img=<(H, W, 3)
         uint8 BGR image>, img_path, img_id, seg_probs=<(C, H, W) float32>,
         seg_probs_classes=<(C,) int64 class ids>, gt_img_labels=<(K,)
         multi-hot, when the sample has it>, ori_shape=(H, W))`` (e.g.
         ``[dict(type='DenseCRFRefine', key='seg_probs', ...)]``);
       - the mask: ``results['gt_seg_map']`` if a transform wrote one, else
         ``seg_probs_classes[argmax(seg_probs)]``;
    2. writes the masks as palette PNGs (``<img_id><seg_map_suffix>``) into
       ``<work_dir>/<out_dir>/round_<k>.tmp``; when every rank is done, rank 0
       checks that exactly the expected files exist, writes
       ``manifest.json`` (ids, iteration, mIoU) and renames the folder to
       ``round_<k>``: a crash leaves only a ``.tmp`` folder, which is never
       used and is removed when the round is predicted again;
    3. rebuilds the training dataloader (``runner.build_dataloader``) with
       the relabelled datasets switched to ``supervision='pseudo_mask'``,
       ``data_prefix.pseudo_path=round_<k>`` (``with_boxes`` dropped) and,
       when given, ``pipeline=train_pipeline`` (a box or image-label pipeline
       cannot load a pseudo-mask);
    4. optionally turns the PUS loss off (``disable_pus``) and restarts from
       the initial weights (``restart``: the weights at the start of
       training, saved as ``<out_dir>/initial_weights.pth``; the optimizer
       state is cleared and every parameter group's lr reset to its
       ``initial_lr``). The restart happens before the next round's first
       iteration, so that the validation and the checkpoint at the round's
       last iteration hold the model the round trained. For a poly decay per
       round use :class:`~mmseg_weak.engine.hooks.RoundPolyLR` with the same
       ``round_iters`` (checked at ``before_train``); a single ``PolyLR``
       over the run anneals only the last round (see its module);
    5. logs the pseudo-mask mIoU against the ground truth
       (``gt_seg_map_path``) when every image has it
       (``cyclic/round_<k>_pseudo_mIoU``).

    ``round_iters`` is resolved at ``before_train`` against
    ``train_cfg.max_iters`` (fractions follow ``--cfg-options
    train_cfg.max_iters=N``); a round ending after ``max_iters`` is an error.

    The completed round (and a pending restart) is stored in checkpoints
    (``meta``); after ``--resume`` the hook switches the data (and PUS) to
    the last completed round, restarting the weights if the checkpoint was
    saved at a round's end, before training continues.

    Args:
        round_iters (int | float | Sequence): Ends of the rounds, increasing:
            ints are iterations (e.g. ``[20000]`` with ``max_iters=40000``),
            floats in (0, 1] fractions of ``train_cfg.max_iters`` (e.g.
            ``[0.5]``: one cyclic round in the second half).
        predict_pipeline (list[dict]): Test-time pipeline of the training
            images (load, resize, ``LoadImageLabels`` when needed,
            ``PackWeakSegInputs``); with ``tta=True`` a ``TestTimeAug``
            pipeline.
        supervisions (Sequence[str]): Which training datasets a round
            relabels: any of ``'image_label'``, ``'box'``, ``'pseudo_mask'``.
            Defaults to ``('pseudo_mask',)``.
        train_pipeline (list[dict], optional): Training pipeline of the
            relabelled datasets after a round. Defaults to their own.
        out_dir (str): Folder of the rounds, relative to ``work_dir`` unless
            absolute. Defaults to ``'pseudo_masks'``.
        tta (bool): Merge the augmentations of a ``TestTimeAug``
            ``predict_pipeline`` (mean softmax). Defaults to False.
        post_pipeline (list[dict], optional): Transforms refining the
            probabilities or writing the mask (see above).
        restrict_to_image_labels (bool): See above. Defaults to False.
        disable_pus (bool): Switch every ``PUSLoss`` of the model off after
            the first round (the paper trains the cyclic round without PUS).
            Defaults to True.
        restart (bool): Restart every round from the initial weights (with
            a fresh optimizer state and lr). Defaults to True.
        num_workers (int, optional): Workers of the prediction dataloader.
            Defaults to ``train_dataloader.num_workers``.
    """

    # after the ParamSchedulerHook (LOW, 70), before the CheckpointHook
    # (VERY_LOW, 90): a checkpoint saved at the round's last iteration holds
    # the new round
    priority = 80

    def __init__(self,
                 round_iters: Union[int, float, Sequence[Union[int, float]]],
                 predict_pipeline: List[dict],
                 supervisions: Sequence[str] = (PSEUDO_MASK, ),
                 train_pipeline: Optional[List[dict]] = None,
                 out_dir: str = 'pseudo_masks',
                 tta: bool = False,
                 post_pipeline: Optional[List[dict]] = None,
                 restrict_to_image_labels: bool = False,
                 disable_pus: bool = True,
                 restart: bool = True,
                 num_workers: Optional[int] = None) -> None:
        self.round_iters = check_round_iters(round_iters)
        if not predict_pipeline:
            raise ValueError('predict_pipeline is required')
        if isinstance(supervisions, str):
            supervisions = (supervisions, )
        for sup in supervisions:
            check_supervision(sup)
            if sup not in _RELABELABLE:
                raise ValueError(
                    f'CyclicPseudoMaskHook: supervisions may hold '
                    f'{_RELABELABLE}, got {sup!r} ('
                    + ('ground-truth masks are never replaced' if sup == FULL
                       else 'switching to pseudo_mask would expose the '
                       'image labels of unlabeled images') + ')')
        if not supervisions:
            raise ValueError('supervisions must name at least one type')
        uses_tta = any(
            isinstance(t, dict) and t.get('type') == 'TestTimeAug'
            for t in predict_pipeline)
        if tta != uses_tta:
            raise ValueError(
                'CyclicPseudoMaskHook: tta=True needs a TestTimeAug '
                'predict_pipeline (e.g. the config\'s tta_pipeline) and '
                'tta=False a plain one')
        self.predict_pipeline = list(predict_pipeline)
        self.supervisions = tuple(supervisions)
        self.train_pipeline = None if train_pipeline is None else list(
            train_pipeline)
        self.out_dir = out_dir
        self.tta = tta
        self.post_pipeline = list(post_pipeline or [])
        self.restrict_to_image_labels = restrict_to_image_labels
        self.disable_pus = disable_pus
        self.restart = restart
        self.num_workers = num_workers
        #: round ends in iterations (resolved at ``before_train``)
        self.iters: Optional[List[int]] = None
        #: number of completed rounds (0: training on the initial masks)
        self.round = 0
        #: the weights restart before the next training iteration
        self.restart_pending = False
        self._post: Optional[Compose] = None

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
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            raise TypeError('CyclicPseudoMaskHook needs an IterBasedTrainLoop '
                            f'(got {type(runner.train_loop).__name__})')
        self.iters = resolve_round_iters(
            self.round_iters, runner.max_iters,
            name='CyclicPseudoMaskHook.round_iters')
        self._check_schedulers(runner)
        # fail now, not after a round of training, on a bad config
        if not _select_datasets(runner.cfg.train_dataloader.dataset,
                                self.supervisions):
            raise ValueError(self._no_dataset_msg())
        Compose(self.predict_pipeline)
        if self.train_pipeline is not None:
            Compose(self.train_pipeline)
        self._post = Compose(self.post_pipeline) if self.post_pipeline \
            else None
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
        if self.round < len(self.iters) and done == self.iters[self.round]:
            self.end_round(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[_META_KEY] = dict(
            round=self.round, restart_pending=self.restart_pending)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(_META_KEY)
        if state is not None:
            self.round = int(state['round'])
            self.restart_pending = bool(state.get('restart_pending', False))

    def _check_schedulers(self, runner) -> None:
        """Every ``RoundPolyLR`` restarts where the rounds end."""
        schedulers = getattr(runner, 'param_schedulers', None) or []
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        for scheduler in schedulers:
            if isinstance(scheduler, RoundPolyLR):
                expected = [
                    i for i in self.iters if scheduler.begin < i <
                    scheduler.end
                ]
                if scheduler.restarts != expected:
                    raise ValueError(
                        f'RoundPolyLR restarts at {scheduler.restarts} but '
                        f'the CyclicPseudoMaskHook rounds end at {self.iters}'
                        ' (give both the same round_iters)')

    def _no_dataset_msg(self) -> str:
        return ('CyclicPseudoMaskHook: train_dataloader has no dataset with '
                f'supervision in {self.supervisions} whose labels a round '
                'could replace')

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

    def _train_dataloader_cfg(self, runner,
                              k: int) -> Tuple[dict, List[dict]]:
        """A copy of ``train_dataloader`` in round ``k`` (``0``: as
        configured) and its relabelled dataset configs (references into
        it)."""
        cfg = copy.deepcopy(runner.cfg.train_dataloader)
        selected = _select_datasets(cfg['dataset'], self.supervisions)
        if not selected:
            raise ValueError(self._no_dataset_msg())
        if k > 0:
            for ds in selected:
                ds['data_prefix'] = dict(
                    _data_prefix(ds),
                    pseudo_path=osp.abspath(self.round_dir(runner, k)))
                if ds['supervision'] == BOX:
                    ds.pop('with_boxes', None)
                ds['supervision'] = PSEUDO_MASK
                if self.train_pipeline is not None:
                    ds['pipeline'] = copy.deepcopy(self.train_pipeline)
        return cfg, selected

    def _predict_dataset_cfgs(self, runner) -> List[dict]:
        """The relabelled datasets of the current round with
        ``predict_pipeline``, all images (no ``indices``)."""
        _, selected = self._train_dataloader_cfg(runner, self.round)
        cfgs = []
        for ds in selected:
            ds = copy.deepcopy(ds)
            ds['pipeline'] = copy.deepcopy(self.predict_pipeline)
            ds['indices'] = None
            cfgs.append(ds)
        return cfgs

    def _build_dataloader(self, runner, dataset_cfg: dict):
        num_workers = self.num_workers
        if num_workers is None:
            num_workers = runner.cfg.train_dataloader.get('num_workers', 0)
        return runner.build_dataloader(
            dict(
                dataset=dataset_cfg,
                sampler=dict(
                    type='DefaultSampler', shuffle=False, round_up=False),
                batch_size=1,
                num_workers=num_workers,
                persistent_workers=False,
                collate_fn=dict(type='pseudo_collate')),
            seed=getattr(runner, 'seed', None),
            diff_rank_seed=runner.cfg.get('randomness',
                                          {}).get('diff_rank_seed', False))

    def predict_probs(self, model: torch.nn.Module,
                      batch: dict) -> Tuple[torch.Tensor, object]:
        """``(C, H, W)`` class probabilities of a one-image batch (mean
        softmax over the ``TestTimeAug`` augmentations with ``tta``, as
        ``SegTTAModel.merge_preds``) and the first augmentation's data
        sample."""
        if self.tta:
            inputs = batch['inputs']
            if not (isinstance(inputs, list) and inputs
                    and isinstance(inputs[0], (list, tuple))):
                raise ValueError('CyclicPseudoMaskHook(tta=True): the batch '
                                 'is not a TestTimeAug batch')
            # as BaseTTAModel.test_step: one batch per augmentation
            augs = [{key: value[i]
                     for key, value in batch.items()}
                    for i in range(len(inputs))]
        else:
            augs = [batch]
        if getattr(model, 'out_channels', 2) == 1:
            raise ValueError('CyclicPseudoMaskHook: binary (out_channels=1) '
                             'models are not supported')
        # SegTTAModel.merge_preds: zeros, += softmax of each view in order,
        # /= number of views (summed as they come: the same float result)
        first = probs = None
        for aug in augs:
            sample = model.test_step(aug)[0]
            logits = sample.seg_logits.data
            if first is None:
                first = sample
                probs = torch.zeros(logits.shape).to(logits)
            probs += logits.softmax(dim=0)
        probs /= len(augs)
        return probs, first

    def _label_map(self, probs: torch.Tensor, sample, info: dict, img_id: str,
                   dataset) -> np.ndarray:
        """The final mask of one image (see the class doc)."""
        where = f'CyclicPseudoMaskHook: {info["img_path"]}'
        probs = probs.float().cpu().numpy()
        classes = np.arange(probs.shape[0], dtype=np.int64)
        labels = sample.get('gt_img_labels')
        if labels is not None:
            labels = labels.cpu().numpy().reshape(-1)
        if self.restrict_to_image_labels:
            if labels is None:
                raise ValueError(
                    f'{where}: restrict_to_image_labels=True needs '
                    'gt_img_labels (add LoadImageLabels to predict_pipeline)')
            if labels.shape[0] != probs.shape[0]:
                raise ValueError(f'{where}: gt_img_labels has '
                                 f'{labels.shape[0]} classes, the model '
                                 f'{probs.shape[0]}')
            keep = labels > 0
            background = getattr(dataset, 'background_index', 0)
            if background is not None:
                keep[background] = True
            classes = np.flatnonzero(keep).astype(np.int64)
            probs = probs[classes]
            total = probs.sum(axis=0, keepdims=True)
            probs = np.divide(probs, total, out=np.zeros_like(probs),
                              where=total > 0)
        shape = probs.shape[1:]
        if self._post is None:
            return labels_from_soft_map(probs, classes)
        img = mmcv.imfrombytes(
            fileio.get(info['img_path'],
                       backend_args=getattr(dataset, 'backend_args', None)),
            flag='color', channel_order='bgr')
        if img.shape[:2] != shape:
            raise ValueError(f'{where}: image size {img.shape[:2]} differs '
                             f'from the prediction {shape}')
        results = dict(
            img=img, img_path=info['img_path'], img_id=img_id,
            seg_probs=probs, seg_probs_classes=classes, ori_shape=shape)
        if labels is not None:
            results['gt_img_labels'] = labels
        results = self._post(results)
        if results is None:
            raise ValueError(f'{where}: post_pipeline dropped the image')
        if 'gt_seg_map' in results:
            label = np.asarray(results['gt_seg_map'])
        else:
            label = labels_from_soft_map(results['seg_probs'],
                                         results['seg_probs_classes'])
        if label.shape != shape:
            raise ValueError(f'{where}: post_pipeline gave a {label.shape} '
                             f'mask for a {shape} image')
        ignore = getattr(dataset, 'ignore_index', 255)
        bad = np.unique(label[(label >= len(dataset.metainfo['classes']))
                              & (label != ignore)])
        if bad.size:
            raise ValueError(f'{where}: post_pipeline wrote class ids '
                             f'{bad.tolist()} that the dataset does not have')
        return label.astype(np.uint8)

    @torch.no_grad()
    def predict_round(self, runner, k: int) -> Dict:
        """Predict the relabelled datasets into ``round_<k>`` (see the class
        doc)."""
        final = self.round_dir(runner, k)
        tmp = final + '.tmp'
        if is_main_process():
            if osp.exists(final):  # a resumed run re-predicts the round
                shutil.rmtree(final)
            if osp.exists(tmp):
                shutil.rmtree(tmp)
            os.makedirs(tmp)
        barrier()
        if self._post is None and self.post_pipeline:
            self._post = Compose(self.post_pipeline)
        model = self._model(runner)
        was_training = model.training
        model.eval()
        classes = palette = None
        area = None
        has_gt = True
        expected = []
        for dataset_cfg in self._predict_dataset_cfgs(runner):
            loader = self._build_dataloader(runner, dataset_cfg)
            dataset = loader.dataset
            if classes is None:
                classes = dataset.metainfo['classes']
                palette = dataset.metainfo.get('palette')
                area = torch.zeros(2, len(classes), dtype=torch.float64)
            elif dataset.metainfo['classes'] != classes:
                raise ValueError('CyclicPseudoMaskHook: the relabelled '
                                 'datasets have different classes')
            self._check_label_map(dataset, len(classes))
            suffix = getattr(dataset, 'seg_map_suffix', '.png')
            infos = {}
            for index in range(len(dataset)):
                info = dataset.get_data_info(index)
                img_id = self._img_id(dataset, index)
                infos[info['img_path']] = (img_id, info)
                expected.append(img_id + suffix)
            if len(infos) != len(dataset):
                raise ValueError('CyclicPseudoMaskHook: duplicate images in '
                                 f'{type(dataset).__name__}')
            for batch in loader:
                probs, sample = self.predict_probs(model, batch)
                img_id, info = infos[sample.img_path]
                label = self._label_map(probs, sample, info, img_id, dataset)
                path = osp.join(tmp, img_id + suffix)
                os.makedirs(osp.dirname(path), exist_ok=True)
                write_label_png(path, label, palette)
                gt_path = info.get('gt_seg_map_path')
                if gt_path and osp.exists(gt_path):
                    area += self._areas(label, gt_path, len(classes),
                                        dataset, info)
                else:
                    has_gt = False
        if was_training:
            model.train()
        if len(set(expected)) != len(expected):
            raise ValueError('CyclicPseudoMaskHook: the relabelled datasets '
                             'share image ids')
        all_reduce(area)
        flag = torch.tensor([float(has_gt)])
        all_reduce(flag, op='min')
        barrier()
        iteration = self.iters[k - 1] if self.iters and k <= len(
            self.iters) else None
        stats = dict(round=k, iteration=iteration, num_images=len(expected),
                     mIoU=None)
        if flag.item() > 0 and area[1].sum() > 0:
            present = area[1] > 0
            iou = area[0][present] / area[1][present]
            stats['mIoU'] = float(iou.mean() * 100)
        if is_main_process():
            written = sorted(
                osp.relpath(osp.join(root, f), tmp)
                for root, _, files in os.walk(tmp) for f in files
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
    def _check_label_map(dataset, num_classes: int) -> None:
        """The written class ids must read back as themselves."""
        label_map = getattr(dataset, 'label_map', None) or {}
        moved = {
            i: label_map[i]
            for i in range(num_classes)
            if label_map.get(i, i) != i
        }
        if moved:
            raise ValueError(
                f'CyclicPseudoMaskHook: {type(dataset).__name__} maps mask '
                f'values {moved} when it reads a mask (label_map), so '
                'predicted class ids would not read back as themselves')

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
        cfg, _ = self._train_dataloader_cfg(runner, k)
        loader = runner.build_dataloader(
            cfg,
            seed=runner.seed,
            diff_rank_seed=runner.cfg.get('randomness',
                                          {}).get('diff_rank_seed', False))
        loop = runner.train_loop
        loop.dataloader = loader
        loop.dataloader_iterator = _InfiniteIterator(loader)

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
