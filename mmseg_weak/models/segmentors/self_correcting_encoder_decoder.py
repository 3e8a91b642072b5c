"""Primary model training of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_ with a frozen ancillary model."""
import os.path as osp
from typing import Dict, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from torch import Tensor, nn

from ..utils.zero_loss import decode_loss_names, zero_loss
from ...utils.checkpoint import register_checkpoint_safe_globals
from ...utils.supervision import FULL, indices_with_supervision
from .box_conditioned_encoder_decoder import BoxConditionedEncoderDecoder


def build_ancillary(config: str, checkpoint: Optional[str],
                    num_classes: int) -> BoxConditionedEncoderDecoder:
    """Build the ancillary model from its config file and load its weights.

    Raises:
        FileNotFoundError: the config or the checkpoint does not exist.
        ValueError: the config is no box-conditioned model, its classes differ
            from the primary model's, or the checkpoint does not match it.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'{config}: ancillary config not found')
    model_cfg = Config.fromfile(config).model
    model_cfg.pop('data_preprocessor', None)  # inputs arrive normalised
    model_cfg.pop('pretrained', None)
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    if not isinstance(model, BoxConditionedEncoderDecoder):
        raise ValueError(f'{config}: the ancillary model must be a '
                         f'BoxConditionedEncoderDecoder, got '
                         f'{type(model).__name__}')
    if model.num_classes != num_classes:
        raise ValueError(f'{config}: ancillary model has {model.num_classes} '
                         f'classes, the primary model {num_classes}')
    if checkpoint is None:
        print_log(f'ancillary model from {config} WITHOUT weights '
                  '(checkpoint=None)', logger='current', level=30)
    else:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'{checkpoint}: ancillary checkpoint not found (train '
                f'{config} first, or set model.ancillary.checkpoint)')
        register_checkpoint_safe_globals()
        try:
            load_checkpoint(model, checkpoint, map_location='cpu',
                            strict=True, revise_keys=[(r'^module\.', '')])
        except (RuntimeError, KeyError) as e:
            raise ValueError(f'{checkpoint}: does not match the ancillary '
                             f'config {config}: {e}') from None
    model.eval()
    model.requires_grad_(False)
    return model


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

    The ancillary model is loaded on the first training step and kept out of
    the module tree: it is never trained, wrapped by DDP or saved in the
    primary checkpoints, and test / inference (``tools/test.py``) use the
    primary model alone, without boxes.

    Args:
        ancillary (dict): ``config`` (path of the ancillary model's config)
            and ``checkpoint`` (its trained weights; ``None`` only for tests).
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(self, ancillary: ConfigType, **kwargs) -> None:
        super().__init__(**kwargs)
        if not hasattr(self.decode_head, 'ancillary_supervisions'):
            raise ValueError('SelfCorrectingEncoderDecoder needs a '
                             'self-correction decode head, got '
                             f'{type(self.decode_head).__name__}')
        if 'config' not in ancillary:
            raise ValueError("ancillary needs 'config' (and 'checkpoint')")
        self.ancillary_cfg = dict(ancillary)
        self._ancillary: Optional[nn.Module] = None

    @property
    def ancillary(self) -> BoxConditionedEncoderDecoder:
        """The frozen ancillary model (built and loaded on first use)."""
        if self._ancillary is None:
            model = build_ancillary(self.ancillary_cfg['config'],
                                    self.ancillary_cfg.get('checkpoint'),
                                    self.num_classes)
            # plain attribute, not a submodule (see the class docstring)
            object.__setattr__(self, '_ancillary', model)
        return self._ancillary

    def ancillary_logits(self, inputs: Tensor,
                         data_samples: SampleList) -> Tensor:
        """Ancillary logits for the samples the decode head needs them for
        (zeros elsewhere), without gradient."""
        idx = indices_with_supervision(
            data_samples, *self.decode_head.ancillary_supervisions)
        model = self.ancillary
        param = next(model.parameters())
        if param.device != inputs.device:
            model.to(inputs.device)
        with torch.no_grad():
            if not idx:
                return None
            sub = model.seg_logits(inputs[idx], [data_samples[i] for i in idx])
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
