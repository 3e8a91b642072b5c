"""Normalised Global Weighted Pooling (nGWP) head with self-supervised
segmentation from PAMR pseudo ground truth.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020 (https://arxiv.org/abs/2005.08104), Sec. 3.2-3.3.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from ..utils.pseudo_gt import pseudo_gt_from_masks

__all__ = [
    'NGWPHead', 'add_background_channel', 'ngwp_scores', 'focal_mask_penalty',
    'stack_image_labels'
]


def add_background_channel(fg_logits: Tensor, value: float = 1.0) -> Tensor:
    """Prepend a constant background score to ``(B, C, h, w)`` foreground
    logits; returns ``(B, C + 1, h, w)``."""
    background = fg_logits.new_full(
        (fg_logits.shape[0], 1, *fg_logits.shape[2:]), value)
    return torch.cat([background, fg_logits], dim=1)


def ngwp_scores(logits: Tensor, masks: Tensor, eps: float = 1.0) -> Tensor:
    """Normalised Global Weighted Pooling (Eq. 3).

    ``y_c = sum_ij m_cij * y_cij / (eps + sum_ij m_cij)``.

    Args:
        logits (Tensor): ``(B, C, h, w)`` per-pixel scores ``y``.
        masks (Tensor): ``(B, C, h, w)`` masks ``m`` (pixelwise softmax).
        eps (float): ``epsilon``. Defaults to 1.0, the authors' value (the
            paper only says "small").

    Returns:
        Tensor: ``(B, C)`` class scores.
    """
    return (logits * masks).sum(dim=(2, 3)) / (eps + masks.sum(dim=(2, 3)))


def focal_mask_penalty(masks: Tensor, power: float = 3.0,
                       lam: float = 0.01) -> Tensor:
    """Focal mask-size penalty (Eq. 5).

    ``(1 - mean(m_c)) ** p * log(lambda + mean(m_c))``.

    Args:
        masks (Tensor): ``(B, C, h, w)`` masks.
        power (float): ``p``. Defaults to 3.
        lam (float): ``lambda``. Defaults to 0.01.

    Returns:
        Tensor: ``(B, C)`` penalty terms (non-positive for masks in [0, 1]).
    """
    mean = masks.mean(dim=(2, 3))
    return (1 - mean).pow(power) * torch.log(lam + mean)


def stack_image_labels(batch_data_samples: SampleList, num_classes: int,
                       ignore_index: int = 255) -> Tensor:
    """``(B, num_classes)`` multi-hot image labels of a batch.

    Taken from ``gt_img_labels`` (see ``LoadImageLabels`` and
    ``PackWeakSegInputs``) or, for samples without it, from the classes in
    ``gt_sem_seg``.
    """
    labels = []
    for sample in batch_data_samples:
        if 'gt_img_labels' in sample:
            vec = torch.as_tensor(sample.gt_img_labels).float().view(-1)
            if vec.numel() != num_classes:
                raise ValueError(f'gt_img_labels has {vec.numel()} entries, '
                                 f'the head {num_classes} classes')
        elif 'gt_sem_seg' in sample:
            seg = sample.gt_sem_seg.data
            values = seg[(seg != ignore_index) & (seg < num_classes)].long()
            vec = torch.zeros(num_classes, device=seg.device)
            vec[values.unique()] = 1
        else:
            raise ValueError('a sample has neither gt_img_labels nor '
                             'gt_sem_seg')
        labels.append(vec)
    return torch.stack([vec.cpu() for vec in labels])


@MODELS.register_module()
class NGWPHead(BaseDecodeHead):
    """Segmentation head trained from image labels with nGWP (Eq. 3-6) and
    self-supervision from PAMR pseudo ground truth (Sec. 3.3).

    The head predicts per-pixel scores for the ``num_classes - 1`` foreground
    classes (``conv_seg``); a constant background channel is prepended and a
    pixelwise softmax gives the masks. Class scores are nGWP plus the focal
    mask penalty; the classification loss (``loss_cls``, multi-label
    soft-margin, Eq. 6) compares them with the image labels. Once
    :attr:`seg_loss_enabled` (switched by ``SegLossWarmupHook``), the detached
    masks are refined by PAMR on the input image, turned into pseudo ground
    truth (:func:`pseudo_gt_from_masks`) and the class-balanced
    cross-entropy (``loss_decode``) is added. The image comes from the
    segmentor (``SingleStageWSSS``) through ``loss(..., images=...)``.

    At test time the head outputs the softmax masks (background first) like
    any MMSeg head; optionally the masks of classes whose classifier
    confidence ``sigmoid(y_c)`` is below ``cls_score_thr`` are removed.

    This class's own feature extractor is ``num_convs`` conv modules on the
    selected input (0: ``conv_seg`` directly on the backbone features).
    Subclasses override :meth:`_forward_feature` (see
    ``StochasticGateASPPHead``).

    Args:
        num_convs (int): Conv modules before ``conv_seg``. Defaults to 0.
        kernel_size (int): Kernel size of those convs. Defaults to 3.
        background_score (float): The constant background logit. Defaults
            to 1.0 (the authors' value).
        ngwp_eps (float): ``epsilon`` of Eq. 3. Defaults to 1.0 (authors').
        focal_power (float): ``p`` of Eq. 5. Defaults to 3.
        focal_lambda (float): ``lambda`` of Eq. 5. Defaults to 0.01.
        loss_cls (dict): Classification loss. Defaults to MMSeg's
            ``CrossEntropyLoss(use_sigmoid=True)`` on ``(N, C)`` scores and
            multi-hot labels: the multi-label soft-margin loss of Eq. 6
            (mean over classes and images; equal to
            ``torch.nn.MultiLabelSoftMarginLoss`` to float rounding).
        loss_decode (dict): Self-supervised segmentation loss. Defaults to
            ``BalancedCrossEntropyLoss``.
        pamr (dict): PAMR module config. Defaults to 10 iterations with
            dilations 1-2-4-8-12-24.
        pseudo_gt_cfg (dict): Arguments of :func:`pseudo_gt_from_masks`
            (``fg_cutoff=0.6``, ``bg_cutoff=0.7``, ``min_cutoff=0.2``).
        seg_loss_enabled (bool): Whether the segmentation loss is on from the
            start (``SegLossWarmupHook`` overrides it). Defaults to True.
        cls_score_thr (float, optional): At test time remove the masks of
            classes with ``sigmoid(score) < cls_score_thr`` (the paper uses
            0.1). Defaults to None (keep all).
        **kwargs: :class:`BaseDecodeHead` arguments. ``num_classes`` counts
            the background.
    """

    #: ``SingleStageWSSS`` passes the (de-normalised) input images to
    #: :meth:`loss` of heads that set this.
    requires_images = True

    def __init__(self,
                 num_convs: int = 0,
                 kernel_size: int = 3,
                 background_score: float = 1.0,
                 ngwp_eps: float = 1.0,
                 focal_power: float = 3.0,
                 focal_lambda: float = 0.01,
                 loss_cls: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     loss_weight=1.0,
                     loss_name='loss_cls'),
                 loss_decode: ConfigType = dict(
                     type='BalancedCrossEntropyLoss',
                     loss_weight=1.0,
                     loss_name='loss_seg'),
                 pamr: ConfigType = dict(
                     type='PixelAdaptiveMaskRefinement',
                     num_iter=10,
                     dilations=(1, 2, 4, 8, 12, 24)),
                 pseudo_gt_cfg: Optional[dict] = None,
                 seg_loss_enabled: bool = True,
                 cls_score_thr: Optional[float] = None,
                 **kwargs) -> None:
        super().__init__(loss_decode=loss_decode, **kwargs)
        if self.num_classes < 2:
            raise ValueError('num_classes counts the background and must be '
                             f'>= 2, got {self.num_classes}')
        # foreground scores only; the background channel is constant
        self.conv_seg = nn.Conv2d(self.channels, self.num_classes - 1, 1)
        in_channels = self.in_channels
        if isinstance(in_channels, (list, tuple)):
            in_channels = sum(in_channels)
        convs = []
        for i in range(num_convs):
            convs.append(
                self._conv_module(in_channels if i == 0 else self.channels,
                                  self.channels, kernel_size))
        if num_convs == 0 and in_channels != self.channels and \
                type(self)._forward_feature is NGWPHead._forward_feature:
            raise ValueError('with num_convs=0, channels must equal '
                             f'in_channels ({in_channels})')
        self.convs = nn.Sequential(*convs)
        self.background_score = background_score
        self.ngwp_eps = ngwp_eps
        self.focal_power = focal_power
        self.focal_lambda = focal_lambda
        self.loss_cls = MODELS.build(loss_cls)
        self.pamr = MODELS.build(pamr) if pamr is not None else None
        self.pseudo_gt_cfg = dict(pseudo_gt_cfg or {})
        self.seg_loss_enabled = seg_loss_enabled
        self.cls_score_thr = cls_score_thr

    def _conv_module(self, in_channels: int, out_channels: int,
                     kernel_size: int) -> ConvModule:
        """A conv module with the head's conv, norm and activation configs
        and ``kernel_size // 2`` padding (the input size is kept)."""
        return ConvModule(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def _forward_feature(self, inputs: List[Tensor]) -> Tensor:
        """Features before ``conv_seg``."""
        return self.convs(self._transform_inputs(inputs))

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """``(B, num_classes - 1, h, w)`` foreground logits."""
        return self.cls_seg(self._forward_feature(inputs))

    def masks_and_scores(self,
                         fg_logits: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Logits with the background channel, their pixelwise softmax masks
        and the class scores.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``(B, C + 1, h, w)`` logits and
            masks, and ``(B, C)`` foreground class scores
            ``y_c = nGWP + focal penalty``.
        """
        logits = add_background_channel(fg_logits, self.background_score)
        masks = torch.softmax(logits, dim=1)
        scores = ngwp_scores(logits, masks, self.ngwp_eps) + \
            focal_mask_penalty(masks, self.focal_power, self.focal_lambda)
        return logits, masks, scores[:, 1:]

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def loss(self,
             inputs: Tuple[Tensor],
             batch_data_samples: SampleList,
             train_cfg: ConfigType,
             images: Optional[Tensor] = None) -> dict:
        """Losses of a batch; ``images`` (``(B, 3, H, W)``) feed PAMR."""
        fg_logits = self.forward(inputs)
        return self.loss_by_feat(fg_logits, batch_data_samples, images)

    @torch.no_grad()
    def pseudo_labels(self, masks: Tensor, images: Tensor,
                      img_labels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """PAMR-refined masks and pseudo ground truth at image resolution.

        As in the authors' code: the image is resized to the mask size, PAMR
        refines the detached masks there, the result is resized to the image
        size (bilinear, ``align_corners=True``) and turned into a label map.
        Without a PAMR module (``pamr=None``, the "no PAMR" ablation of
        Table 1b) the raw masks are used.

        Returns:
            tuple[Tensor, Tensor, Tensor]: refined masks ``(B, C+1, H, W)``,
            label map ``(B, H, W)`` and per-image validity ``(B,)``.
        """
        refined = self.refine_masks(masks.detach(), images)
        refined = F.interpolate(
            refined, size=images.shape[-2:], mode='bilinear',
            align_corners=True)
        label, valid = pseudo_gt_from_masks(
            refined,
            img_labels,
            ignore_index=self.ignore_index,
            **self.pseudo_gt_cfg)
        return refined, label, valid

    def refine_masks(self, masks: Tensor, images: Tensor) -> Tensor:
        """PAMR-refine ``(B, C+1, h, w)`` masks at their own resolution on
        the images resized (bilinear, ``align_corners=True``) to it; the
        masks unchanged when the head has no PAMR module."""
        if self.pamr is None:
            return masks
        small = F.interpolate(
            images.float(), size=masks.shape[-2:], mode='bilinear',
            align_corners=True)
        return self.pamr(small, masks)

    def loss_by_feat(self,
                     seg_logits: Tensor,
                     batch_data_samples: SampleList,
                     images: Optional[Tensor] = None) -> dict:
        """Classification loss and, if enabled, the self-supervised
        segmentation loss.

        Args:
            seg_logits (Tensor): ``(B, num_classes - 1, h, w)`` foreground
                logits from :meth:`forward`.
            batch_data_samples (list[SegDataSample]): With
                ``gt_img_labels`` (or ``gt_sem_seg`` to derive them).
            images (Tensor, optional): ``(B, 3, H, W)`` input images, needed
                when the segmentation loss is enabled.

        Returns:
            dict[str, Tensor]: ``loss_cls``, and ``loss_seg``,
            ``acc_pseudo`` (pixel accuracy w.r.t. the pseudo labels) and
            ``pseudo_valid`` (fraction of images kept) when enabled.
        """
        img_labels = stack_image_labels(batch_data_samples, self.num_classes,
                                        self.ignore_index)
        img_labels = img_labels.to(seg_logits.device)
        logits, masks, scores = self.masks_and_scores(seg_logits)
        losses = dict()
        losses[self.loss_cls.loss_name] = self.loss_cls(
            scores, img_labels[:, 1:])
        if not self.seg_loss_enabled:
            return losses
        if images is None:
            raise ValueError(
                f'{type(self).__name__} needs the input images for PAMR once '
                'the segmentation loss is enabled: use the SingleStageWSSS '
                'segmentor (or call loss(..., images=...))')
        _, label, valid = self.pseudo_labels(masks, images, img_labels)
        logits = F.interpolate(
            logits, size=label.shape[-2:], mode='bilinear', align_corners=True)
        losses_decode = self.loss_decode if isinstance(
            self.loss_decode, nn.ModuleList) else [self.loss_decode]
        for loss_decode in losses_decode:
            value = loss_decode(
                logits,
                label,
                weight=valid.to(logits.dtype),
                ignore_index=self.ignore_index)
            name = loss_decode.loss_name
            losses[name] = losses[name] + value if name in losses else value
        losses['acc_pseudo'] = accuracy(
            logits, label, ignore_index=self.ignore_index)
        losses['pseudo_valid'] = valid.float().mean()
        return losses

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def remove_unconfident_classes(self, masks: Tensor,
                                   scores: Tensor) -> Tensor:
        """Zero the masks of classes with ``sigmoid(score) <
        cls_score_thr`` (no-op when the threshold is None)."""
        if self.cls_score_thr is None:
            return masks
        keep = (torch.sigmoid(scores) >= self.cls_score_thr).to(masks.dtype)
        keep = torch.cat([keep.new_ones(keep.shape[0], 1), keep], dim=1)
        return masks * keep[:, :, None, None]

    def predict_with_images(self, inputs: Tuple[Tensor],
                            batch_img_metas: List[dict], test_cfg: ConfigType,
                            images: Tensor) -> Tensor:
        """Test-time masks with optional refinement on the input images.

        ``test_cfg.pamr=True`` refines the (class-filtered) masks with the
        head's PAMR exactly as for the pseudo labels (at mask resolution),
        which is how the PAMR masks are compared with the raw ones;
        ``test_cfg.crf`` (a ``DenseCRF`` config) post-processes the masks at
        input resolution with a dense CRF.

        Returns:
            Tensor: ``(B, num_classes, H, W)`` masks at the input shape.
        """
        _, masks, scores = self.masks_and_scores(self.forward(inputs))
        masks = self.remove_unconfident_classes(masks, scores)
        if test_cfg.get('pamr', False):
            if self.pamr is None:
                raise ValueError('test_cfg.pamr=True needs a head with a PAMR '
                                 'module (pamr=None was configured)')
            masks = self.refine_masks(masks, images)
        masks = BaseDecodeHead.predict_by_feat(self, masks, batch_img_metas)
        crf_cfg = test_cfg.get('crf', None)
        if crf_cfg:
            if getattr(self, '_crf', None) is None:
                # a parameter-free post-processor: kept out of the module
                # tree (no state_dict entry, not wrapped by DDP)
                object.__setattr__(self, '_crf', MODELS.build(crf_cfg))
            masks = self._crf(masks, images.to(masks.dtype))
        return masks

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """``(B, num_classes, H, W)`` masks (background first) resized to
        the input shape."""
        _, masks, scores = self.masks_and_scores(seg_logits)
        masks = self.remove_unconfident_classes(masks, scores)
        return super().predict_by_feat(masks, batch_img_metas)
