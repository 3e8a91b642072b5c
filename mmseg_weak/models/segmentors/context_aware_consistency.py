"""Context-Aware Consistency (CAC) for semi-supervised segmentation.

Lai et al., *Semi-supervised Semantic Segmentation with Directional
Context-aware Consistency*, CVPR 2021 (https://arxiv.org/abs/2106.14133),
Sec. 3.1-3.5 and 4.1.

One training step (Fig. 4, Eq. 9-10)::

    L = L_ce(sup) + lambda * L_dc(view1, view2) [+ lambda_w * L_w(views)]

* ``L_ce``: MMSeg's decode (and auxiliary) head losses on the labeled batch
  ``sup``, unchanged;
* ``L_dc``: each unlabeled image is cropped twice (``view1``/``view2``, see
  :class:`~mmseg_weak.datasets.transforms.OverlappingCropPair`); both views
  go through the backbone and the decoder up to the features before the
  classifier (the "encoder" of the paper includes PPM / ASPP); a stride-4
  decoder (DeepLabV3+) is average-pooled 2x2 to stride 8; the projector
  ``Phi`` embeds these features and the main classifier ``C`` (the decode
  head's ``cls_seg``) classifies the *same stride-8 features*, giving the
  confidence and pseudo-label of each embedded pixel (as in the authors'
  ``models/model.py``: ``classifier(enc_ul)`` at feature resolution, never
  upsampled). The overlap of the two views is cut out of both maps and the
  :class:`~mmseg_weak.models.losses.DirectionalContrastiveLoss` is applied to
  its pixels, with all pixels of all views as negatives;
* ``L_w`` (image-label extension, Sec. 3.5, optional): an extra classifier
  ``C_w`` (:class:`~mmseg_weak.models.decode_heads.PixelClassifierHead`) on
  the views' decoder features is trained with cross-entropy on the CAM
  pseudo-masks of the views whose ``supervision`` is ``'pseudo_mask'``
  (the pseudo-mask is cropped and flipped with its view); ``C_w`` is not
  used at inference.

Warm-up: the first ``warmup_iters`` iterations train ``L_ce`` only (the
authors' ``epoch_start_unsup = 5`` epochs; they skip the unlabeled forward
pass then, so do we). The iteration is read from MMEngine's ``MessageHub``
(``'iter'``, set by the default ``RuntimeInfoHook`` before every training
iteration from ``runner.iter``, which a checkpoint restores), so the
warm-up needs no extra hook and is the same after ``--resume``.

DDP: during the warm-up the projector (and ``C_w``) take no part in the
forward pass, which ``DistributedDataParallel`` rejects without
``find_unused_parameters=True``. Instead the logged ``loss_dc`` is then
``0 * sum(parameters)`` of those modules: every parameter gets a (zero)
gradient, the configs need no ``find_unused_parameters`` (no graph
traversal at every step). Side effect: SGD's weight decay and momentum act
on them during the warm-up (a factor ``(1 - lr * wd)`` per step, 0.9994 over
the VOC warm-up), where the authors' unused parameters stay untouched.

Inference is :class:`~mmseg.models.segmentors.EncoderDecoder`'s: the
projector and ``C_w`` are ignored, ``tools/test.py`` works on a checkpoint.
"""
import math
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.utils import reweight_loss_dict
from mmengine.logging import MessageHub
from mmseg.models.decode_heads import ASPPHead
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList, add_prefix
from torch import Tensor, nn

from ...utils.supervision import PSEUDO_MASK, indices_with_supervision
from ..utils.zero_loss import decode_loss_names, zero_loss

__all__ = [
    'ContextAwareConsistency', 'decoder_features', 'overlap_rows',
    'sigmoid_rampup'
]

VIEWS = ('view1', 'view2')


def decoder_features(head: nn.Module, inputs: Sequence[Tensor]) -> Tensor:
    """The decode head's feature map right before its classifier.

    MMSeg heads that classify ``_forward_feature(inputs)`` with ``cls_seg``
    (``PSPHead``, ``FCNHead``, ``UPerHead``...) expose them. DeepLabV3+'s
    ``DepthwiseSeparableASPPHead`` does not (the ``_forward_feature`` it
    inherits from ``ASPPHead`` skips its low-level c1 branch): use
    :class:`~mmseg_weak.models.decode_heads.DepthwiseSeparableASPPFeatureHead`
    (same parameters, same output) instead, or the authors' plain decoder
    :class:`~mmseg_weak.models.decode_heads.DeepLabV3PlusPlainHead`.

    Args:
        head (nn.Module): A decode head with ``_forward_feature``.
        inputs (Sequence[Tensor]): Backbone (neck) features.

    Returns:
        Tensor: ``(B, head.channels, H, W)`` features.

    Raises:
        TypeError: the head has no usable ``_forward_feature``.
    """
    forward_feature = getattr(type(head), '_forward_feature', None)
    if forward_feature is None or forward_feature is \
            ASPPHead._forward_feature:
        raise TypeError(
            f'{type(head).__name__} has no _forward_feature giving the '
            'features its classifier sees (needed by the projector); for '
            "DeepLabV3+ use type='DepthwiseSeparableASPPFeatureHead' or "
            "'DeepLabV3PlusPlainHead'")
    feats = head._forward_feature(inputs)
    channels = getattr(head, 'channels', None)
    if not isinstance(feats, Tensor) or feats.dim() != 4 or (
            channels is not None and feats.size(1) != channels):
        raise TypeError(
            f'{type(head).__name__}._forward_feature gave '
            f'{getattr(feats, "shape", type(feats))}, not (B, {channels}, H,'
            ' W) features')
    return feats


def overlap_rows(maps: Tensor, data_samples: SampleList,
                 stride: int) -> Tuple[Tensor, List[int]]:
    """Rows of ``maps`` on each view's overlap box, in source-pixel order.

    For sample ``i`` with ``overlap_box = (x1, y1, x2, y2)`` (``x2``/``y2``
    exclusive, in that view's pixels after its flip) and ``flip``, the patch
    ``maps[i, :, y1//s:y2//s, x1//s:x2//s]`` is flipped back horizontally
    when ``flip`` is true, so that cell ``(r, c)`` of the patches of both
    views of an image covers the same source pixels; patches are flattened
    row-major.

    Args:
        maps (Tensor): ``(B, C, h, w)`` stride-``s`` maps of one view.
        data_samples (list[SegDataSample]): The ``B`` samples of that view
            with ``overlap_box`` and ``flip`` meta.
        stride (int): Stride ``s`` of ``maps`` w.r.t. the view's pixels.

    Returns:
        tuple[Tensor, list[int]]: ``(N, C)`` rows of all samples and the
        ``(rows, cols)``-product per sample.
    """
    if maps.dim() != 4 or maps.size(0) != len(data_samples):
        raise ValueError(f'maps {tuple(maps.shape)} must be (B, C, h, w) '
                         f'with B = {len(data_samples)} samples')
    rows, counts = [], []
    h, w = maps.shape[-2:]
    for i, sample in enumerate(data_samples):
        name = sample.metainfo.get('img_path', f'sample {i}')
        if 'overlap_box' not in sample.metainfo:
            raise KeyError(f'{name}: no overlap_box meta; unlabeled views '
                           'must come from OverlappingCropPair + '
                           'SelectCropView packed with overlap_box in '
                           'meta_keys')
        x1, y1, x2, y2 = (int(v) for v in sample.overlap_box)
        if any(v % stride for v in (x1, y1, x2, y2)):
            raise ValueError(
                f'{name}: overlap_box {(x1, y1, x2, y2)} is not on the '
                f'stride-{stride} feature grid; the crop pair stride must '
                f'equal the feature stride {stride}')
        if not (0 <= x1 < x2 <= w * stride and 0 <= y1 < y2 <= h * stride):
            raise ValueError(
                f'{name}: overlap_box {(x1, y1, x2, y2)} is empty or outside '
                f'the {h * stride}x{w * stride} view')
        patch = maps[i, :, y1 // stride:y2 // stride,
                     x1 // stride:x2 // stride]
        if sample.metainfo.get('flip', False):
            patch = torch.flip(patch, dims=(-1, ))
        rows.append(patch.flatten(1).t())
        counts.append(patch.shape[-2] * patch.shape[-1])
    return torch.cat(rows), counts


def sigmoid_rampup(step: int, length: int) -> float:
    """``exp(-5 (1 - t)^2)``, ``t = clip(step / length, 0, 1)``; 1 when
    ``length`` is 0 (the ramp-up of CCT, Ouali et al. CVPR 2020, that Lai
    et al. follow for the weak-label weight)."""
    if length <= 0:
        return 1.0
    t = min(max(step, 0), length) / float(length)
    return float(math.exp(-5.0 * (1.0 - t)**2))


def _flat_pixels(maps: Tensor) -> Tensor:
    """``(B, C, h, w) -> (B*h*w, C)``."""
    return maps.permute(0, 2, 3, 1).reshape(-1, maps.size(1))


@MODELS.register_module()
class ContextAwareConsistency(EncoderDecoder):
    """Encoder-decoder trained with context-aware consistency (CAC).

    Lai et al., CVPR 2021 (https://arxiv.org/abs/2106.14133); see the module
    docstring for the step. ``loss`` takes the batch of
    ``mmdet.MultiBranchDataPreprocessor`` (wrapping ``SegDataPreProcessor``):
    ``inputs = {'sup': (B_l, 3, H, W), 'view1': (B_u, 3, h, w),
    'view2': (B_u, 3, h, w)}`` and ``data_samples`` with the same keys,
    ``view1[i]``/``view2[i]`` being two crops of one image whose samples
    carry ``overlap_box`` and ``flip``. Loss items: the decode / auxiliary
    head items of ``sup``, ``loss_dc`` (the loss module's ``loss_name``;
    ``0`` during the warm-up) and, with ``weak_head``, ``weak.*`` items.
    ``predict``/``test_step`` are ``EncoderDecoder``'s.

    The decode head must expose the features it classifies as
    ``_forward_feature`` (e.g. ``PSPHead``,
    ``DepthwiseSeparableASPPFeatureHead``, ``DeepLabV3PlusPlainHead``).

    Args:
        projector (dict): Projector ``Phi`` config (e.g. ``Projector`` with
            ``in_channels = decode_head.channels``, ``pool=True`` for a
            stride-4 decoder such as DeepLabV3+'s); its output must have
            stride ``feature_stride``.
        loss_dc (dict): Config of the consistency loss, called as
            ``loss_dc(feat1, feat2, logits1, logits2, neg_feats,
            neg_labels)`` (``DirectionalContrastiveLoss``).
        dc_weight (float): ``lambda`` of Eq. 9 (multiplies the loss module's
            own ``loss_weight``). Defaults to 0.1 (paper).
        warmup_iters (int): Iterations trained with the supervised loss only
            (the authors: 5 epochs). Defaults to 0.
        feature_stride (int): Stride of the projected features w.r.t. the
            views, which the overlap boxes must be aligned to (the crop
            pair's ``stride``). Defaults to 8.
        weak_head (dict, optional): Config of ``C_w`` for the image-label
            extension (``PixelClassifierHead`` on the decoder features, its
            ``loss_decode`` weight being ``lambda_w``). Defaults to None.
        weak_rampup_iters (int): Length of the sigmoid ramp-up of the weak
            loss weight, counted from iteration 0 (CCT's schedule: 10% of
            training). Defaults to 0 (no ramp-up).
        **kwargs: :class:`EncoderDecoder` arguments (``backbone``,
            ``decode_head``, ``neck``, ``auxiliary_head``, ``train_cfg``,
            ``test_cfg``, ``data_preprocessor``, ``pretrained``,
            ``init_cfg``).
    """

    def __init__(self,
                 projector: ConfigType,
                 loss_dc: ConfigType,
                 dc_weight: float = 0.1,
                 warmup_iters: int = 0,
                 feature_stride: int = 8,
                 weak_head: OptConfigType = None,
                 weak_rampup_iters: int = 0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        for name, value in (('warmup_iters', warmup_iters),
                            ('weak_rampup_iters', weak_rampup_iters)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f'{name} must be an int >= 0, got {value!r}')
        if not isinstance(feature_stride, int) or feature_stride < 1:
            raise ValueError(f'feature_stride must be a positive int, got '
                             f'{feature_stride!r}')
        if dc_weight < 0:
            raise ValueError(f'dc_weight must be >= 0, got {dc_weight}')
        self.projector = MODELS.build(projector)
        in_channels = getattr(self.projector, 'in_channels', None)
        if in_channels is not None and \
                in_channels != self.decode_head.channels:
            raise ValueError(
                f'projector in_channels={in_channels} but the decode head '
                f'features have channels={self.decode_head.channels}')
        self.loss_dc = MODELS.build(loss_dc)
        self.dc_weight = float(dc_weight)
        self.warmup_iters = warmup_iters
        self.feature_stride = feature_stride
        self.weak_head = MODELS.build(weak_head) if weak_head else None
        if self.weak_head is not None and \
                self.weak_head.in_channels != self.decode_head.channels:
            raise ValueError(
                f'weak_head in_channels={self.weak_head.in_channels} but the '
                f'decode head features have channels='
                f'{self.decode_head.channels}')
        self.weak_rampup_iters = weak_rampup_iters

    @property
    def with_weak_head(self) -> bool:
        """Whether the image-label classifier ``C_w`` exists."""
        return self.weak_head is not None

    @staticmethod
    def current_iter() -> int:
        """Training iteration from MMEngine's ``MessageHub`` (0 outside a
        runner)."""
        step = MessageHub.get_current_instance().get_info('iter')
        return 0 if step is None else int(step)

    def unlabeled_losses_enabled(self) -> bool:
        """Whether the warm-up is over at the current iteration."""
        return self.current_iter() >= self.warmup_iters

    def unlabeled_features(self, inputs: Tensor) -> Tuple[Tensor, Tensor,
                                                          Tensor]:
        """Decoder features, projection and classifier logits of a view.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` view images.

        Returns:
            tuple[Tensor, Tensor, Tensor]: decoder features ``(B, C_d, .,
            .)``, projection ``(B, D, H/s, W/s)`` and logits ``(B,
            num_classes, H/s, W/s)`` of the main classifier on the features
            the projector saw (pooled 2x2 when the projector pools).
        """
        feats = decoder_features(self.decode_head, self.extract_feat(inputs))
        proj = self.projector(feats)
        pooled = F.avg_pool2d(feats, kernel_size=2, stride=2) \
            if getattr(self.projector, 'pool', False) else feats
        logits = self.decode_head.cls_seg(pooled)
        s = self.feature_stride
        height, width = inputs.shape[-2:]
        if height % s or width % s or \
                tuple(proj.shape[-2:]) != (height // s, width // s) or \
                logits.shape[-2:] != proj.shape[-2:]:
            raise ValueError(
                f'views of {height}x{width} pixels gave projected features '
                f'{tuple(proj.shape[-2:])} and logits '
                f'{tuple(logits.shape[-2:])}; both must be '
                f'{height // s}x{width // s} (feature_stride {s} = the crop '
                'pair stride, view sizes multiples of it)')
        return feats, proj, logits

    def _check_views(self, inputs: dict, data_samples: dict) -> None:
        for view in VIEWS:
            if view not in inputs or view not in data_samples:
                raise KeyError(
                    f'batch has no {view!r} branch (branches: '
                    f'{sorted(inputs)}): every batch needs unlabeled views, '
                    "e.g. mmdet.MultiSourceSampler over the labeled and "
                    'unlabeled datasets')
        samples1, samples2 = data_samples['view1'], data_samples['view2']
        if len(samples1) != len(samples2) or not samples1:
            raise ValueError(f'{len(samples1)} view1 and {len(samples2)} '
                             'view2 samples; expected the same number > 0')
        for s1, s2 in zip(samples1, samples2):
            p1, p2 = s1.metainfo.get('img_path'), s2.metainfo.get('img_path')
            if p1 != p2:
                raise ValueError(f'view1 {p1} and view2 {p2} are paired but '
                                 'are crops of different images')

    def dc_loss(self, proj: Sequence[Tensor], logits: Sequence[Tensor],
                data_samples: Sequence[SampleList]) -> Tensor:
        """``lambda * L_dc`` of two views.

        Args:
            proj (Sequence[Tensor]): ``(B, D, h, w)`` projections of view 1
                and view 2.
            logits (Sequence[Tensor]): ``(B, K, h, w)`` classifier logits of
                the same pixels.
            data_samples (Sequence[list]): The samples of view 1 and view 2.

        Returns:
            Tensor: Scalar loss.
        """
        s = self.feature_stride
        rows, counts = [], []
        for p, lg, samples in zip(proj, logits, data_samples):
            feat, n = overlap_rows(p, samples, s)
            logit, _ = overlap_rows(lg, samples, s)
            rows.append((feat, logit))
            counts.append(n)
        if counts[0] != counts[1]:
            bad = [
                s1.metainfo.get('img_path', i)
                for i, (s1, n1, n2) in enumerate(
                    zip(data_samples[0], counts[0], counts[1])) if n1 != n2
            ]
            raise ValueError(f'overlap boxes of the two views differ in size '
                             f'for {bad}')
        neg_feats = [_flat_pixels(p) for p in proj]
        neg_labels = [_flat_pixels(lg.detach()).argmax(1) for lg in logits]
        loss = self.loss_dc(rows[0][0], rows[1][0], rows[0][1], rows[1][1],
                            neg_feats, neg_labels)
        return self.dc_weight * loss

    def weak_losses(self, feats: Sequence[Tensor],
                    data_samples: Sequence[SampleList]) -> Dict[str, Tensor]:
        """``lambda_w * L_w``: ``C_w`` on the pseudo-mask views (weight
        ramped up by :func:`sigmoid_rampup`), prefixed ``weak.``."""
        picked_feats, picked_samples = [], []
        for feat, samples in zip(feats, data_samples):
            idx = indices_with_supervision(samples, PSEUDO_MASK)
            picked_feats += [feat[i] for i in idx]
            picked_samples += [samples[i] for i in idx]
        if not picked_samples:  # nothing to learn: keep DDP happy
            zero = zero_loss(self.weak_head)
            return add_prefix(
                {k: zero for k in decode_loss_names(self.weak_head)}, 'weak')
        logits = self.weak_head(torch.stack(picked_feats))
        losses = self.weak_head.loss_by_feat(logits, picked_samples)
        ramp = sigmoid_rampup(self.current_iter(), self.weak_rampup_iters)
        return add_prefix(reweight_loss_dict(losses, ramp), 'weak')

    def loss(self, inputs: Union[Dict[str, Tensor], Tensor],
             data_samples: Union[Dict[str, SampleList], SampleList]) -> dict:
        """Losses of one multi-branch batch (see the class docstring).

        Args:
            inputs (dict[str, Tensor]): ``'sup'``, ``'view1'``, ``'view2'``
                image batches.
            data_samples (dict[str, list[SegDataSample]]): Their samples.

        Returns:
            dict[str, Tensor]: Loss items.
        """
        if not isinstance(inputs, dict) or 'sup' not in inputs:
            raise TypeError(
                'ContextAwareConsistency.loss expects the branches of '
                "mmdet.MultiBranchDataPreprocessor ('sup', 'view1', "
                f"'view2'), got {type(inputs).__name__}"
                f'{sorted(inputs) if isinstance(inputs, dict) else ""}')
        losses = super().loss(inputs['sup'], data_samples['sup'])
        name = self.loss_dc.loss_name
        if not self.unlabeled_losses_enabled():
            losses[name] = zero_loss(self.projector, self.weak_head)
            return losses
        self._check_views(inputs, data_samples)
        feats, proj, logits = zip(
            *(self.unlabeled_features(inputs[v]) for v in VIEWS))
        samples = [data_samples[v] for v in VIEWS]
        losses[name] = self.dc_loss(proj, logits, samples)
        if self.with_weak_head:
            losses.update(self.weak_losses(feats, samples))
        return losses
