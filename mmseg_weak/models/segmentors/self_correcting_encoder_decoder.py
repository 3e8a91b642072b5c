"""Primary model training of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_ with a frozen ancillary model."""
import copy
import os.path as osp
from typing import Dict, Optional, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from torch import Tensor, nn

from ...utils.checkpoint import register_checkpoint_safe_globals
from ...utils.supervision import FULL, indices_with_supervision
from ..utils.zero_loss import decode_loss_names, zero_loss
from .box_conditioned_encoder_decoder import BoxConditionedEncoderDecoder


def build_ancillary(config: Union[str, dict],
                    num_classes: int) -> BoxConditionedEncoderDecoder:
    """Build the (untrained) ancillary model from its config file or dict.

    Args:
        config (str | dict): Path of the ancillary model's config file, or
            its ``model`` config dict.
        num_classes (int): Classes of the primary model.

    Raises:
        FileNotFoundError: the config file does not exist.
        ValueError: no box-conditioned model, or other classes.
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'{config}: ancillary config not found')
        model_cfg = Config.fromfile(config).model
        where = config
    else:
        model_cfg = Config(dict(model=copy.deepcopy(dict(config)))).model
        where = 'model.ancillary.config'
    model_cfg.pop('data_preprocessor', None)  # inputs arrive normalised
    model_cfg.pop('pretrained', None)
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    if not isinstance(model, BoxConditionedEncoderDecoder):
        raise ValueError(f'{where}: the ancillary model must be a '
                         f'BoxConditionedEncoderDecoder, got '
                         f'{type(model).__name__}')
    if model.num_classes != num_classes:
        raise ValueError(f'{where}: ancillary model has {model.num_classes} '
                         f'classes, the primary model {num_classes}')
    return model


def load_ancillary(model: nn.Module, checkpoint: Optional[str],
                   where: str) -> None:
    """Load the ancillary weights (``None``: keep them untrained, logged).

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it does not match the model.
    """
    if checkpoint is None:
        print_log(f'ancillary model {where} WITHOUT weights '
                  '(checkpoint=None)', logger='current', level=30)
        return
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'{checkpoint}: ancillary checkpoint not found (train {where} '
            'first, or set model.ancillary.checkpoint)')
    register_checkpoint_safe_globals()
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                        revise_keys=[(r'^module\.', '')])
    except (RuntimeError, KeyError) as e:
        raise ValueError(f'{checkpoint}: does not match the ancillary '
                         f'config {where}: {e}') from None


@MODELS.register_module()
class SelfCorrectingEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` trained on fully labeled + box-only images, the
    latter through a self-correction decode head fed by a frozen ancillary
    (box-conditioned) model.

    The decode head must be a
    :class:`~mmseg_weak.models.decode_heads.SelfCorrectionHead`
    (``NoSelfCorrectionHead``, ``LinearSelfCorrectionHead`` or
    ``ConvSelfCorrectionHead``) wrapping any MMSeg decode head. Auxiliary heads
    are trained on the fully labeled images only.

    The ancillary model is kept like the teacher of mmdet's
    knowledge-distillation detectors (``KnowledgeDistillationSingleStage
    Detector``): built with the model, frozen and in eval mode, moved by
    ``to`` / ``cuda`` with it, but not a submodule, so it is never trained,
    wrapped by DDP or saved in the primary checkpoints. Its weights are
    loaded by :meth:`init_weights` (which the Runner calls before training),
    not when the model is built: ``tools/test.py`` and inference use the
    primary model alone, without boxes and without the ancillary checkpoint.

    Args:
        ancillary (dict): ``config`` (path of the ancillary model's config
            file, or its ``model`` config dict) and ``checkpoint`` (its
            trained weights; ``None`` only for tests).
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(self, ancillary: ConfigType, **kwargs) -> None:
        super().__init__(**kwargs)
        if not hasattr(self.decode_head, 'ancillary_supervisions'):
            raise ValueError('SelfCorrectingEncoderDecoder needs a '
                             'self-correction decode head, got '
                             f'{type(self.decode_head).__name__}')
        if ancillary.get('config') is None:
            raise ValueError("model.ancillary needs 'config' (a config file "
                             "or a model dict) and 'checkpoint'")
        self.ancillary_cfg = dict(ancillary)
        self.ancillary = build_ancillary(ancillary['config'],
                                         self.num_classes)
        self.ancillary.eval()
        self.ancillary.requires_grad_(False)
        self.ancillary_loaded = False

    def __setattr__(self, name: str, value) -> None:
        # the frozen ancillary model is a plain attribute, not a submodule
        if name == 'ancillary':
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def init_weights(self) -> None:
        """Initialise the primary model and load the ancillary weights."""
        super().init_weights()
        config = self.ancillary_cfg['config']
        load_ancillary(self.ancillary, self.ancillary_cfg.get('checkpoint'),
                       config if isinstance(config, str) else
                       'model.ancillary.config')
        self.ancillary_loaded = True

    def to(self, *args, **kwargs) -> nn.Module:
        self.ancillary.to(*args, **kwargs)
        return super().to(*args, **kwargs)

    def cuda(self, device=None) -> nn.Module:
        self.ancillary.cuda(device)
        return super().cuda(device)

    def cpu(self) -> nn.Module:
        self.ancillary.cpu()
        return super().cpu()

    def train(self, mode: bool = True) -> nn.Module:
        self.ancillary.train(False)  # frozen: BN statistics stay
        return super().train(mode)

    def ancillary_logits(self, inputs: Tensor,
                         data_samples: SampleList) -> Optional[Tensor]:
        """Ancillary logits for the samples the decode head needs them for
        (zeros elsewhere; None when no sample needs them), no gradient."""
        if not self.ancillary_loaded:
            raise RuntimeError(
                'the ancillary weights are not loaded: call init_weights() '
                '(the Runner does before training)')
        idx = indices_with_supervision(
            data_samples, *self.decode_head.ancillary_supervisions)
        if not idx:
            return None
        with torch.no_grad():
            sub = self.ancillary.seg_logits(inputs[idx],
                                            [data_samples[i] for i in idx])
        out = sub.new_zeros((len(data_samples), ) + sub.shape[1:])
        out[idx] = sub
        return out

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict:
        x = self.extract_feat(inputs)
        anc = self.ancillary_logits(inputs, data_samples)
        losses = dict()
        decode = self.decode_head.loss(x, data_samples, self.train_cfg,
                                       ancillary_logits=anc)
        losses.update(add_prefix(decode, 'decode'))
        if self.with_auxiliary_head:
            full = indices_with_supervision(data_samples, FULL)
            if full:
                losses.update(
                    self._auxiliary_head_forward_train(
                        [f[full] for f in x],
                        [data_samples[i] for i in full]))
            else:  # keep the auxiliary heads in the graph with a zero loss
                heads = (self.auxiliary_head if isinstance(
                    self.auxiliary_head, nn.ModuleList) else
                         [self.auxiliary_head])
                zero = zero_loss(*heads)
                for i, head in enumerate(heads):
                    prefix = f'aux_{i}' if len(heads) > 1 else 'aux'
                    losses.update(add_prefix(
                        {k: zero for k in decode_loss_names(head)}, prefix))
        return losses
