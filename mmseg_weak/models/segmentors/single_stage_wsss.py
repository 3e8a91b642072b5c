"""Encoder-decoder that gives its decode head the input images, for heads
whose loss refines masks on the image (PAMR).

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020 (https://arxiv.org/abs/2005.08104).
"""
from typing import List, Optional

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from mmseg.utils.misc import add_prefix
from torch import Tensor

__all__ = ['SingleStageWSSS']


@MODELS.register_module()
class SingleStageWSSS(EncoderDecoder):
    """Single-stage weakly supervised segmentation model.

    MMSeg's :class:`~mmseg.models.segmentors.EncoderDecoder` whose training
    step passes the batch images, de-normalised to the data preprocessor's
    input scale (e.g. 0-255 RGB), to the decode head's ``loss`` as
    ``images=`` when the head declares ``requires_images = True`` (e.g.
    ``NGWPHead`` for PAMR). Prediction, and therefore ``tools/test.py`` on a
    checkpoint, is the ``EncoderDecoder`` path (whole / slide inference,
    MMSeg's TTA); such heads may refine their test-time masks on the input
    images, selected by ``test_cfg``:

    - ``pamr=True``: the PAMR-refined masks (what the pseudo labels are made
      of) instead of the raw masks, e.g.
      ``tools/test.py cfg ckpt --cfg-options model.test_cfg.pamr=True``;
    - ``crf=dict(type='DenseCRF', ...)``: dense-CRF post-processing.

    Args:
        **kwargs: :class:`EncoderDecoder` arguments.
    """

    def denormalize(self, inputs: Tensor) -> Tensor:
        """Undo the data preprocessor's ``(x - mean) / std`` (no-op when it
        does not normalise: MMSeg's and mmengine's preprocessors have the
        ``mean`` / ``std`` buffers only when they do)."""
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if mean is None or std is None:
            return inputs
        return inputs * std + mean

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Test-time masks; heads with ``requires_images`` get the
        de-normalised images for their optional refinement."""
        head = self.decode_head
        if not getattr(head, 'requires_images', False) or not hasattr(
                head, 'predict_with_images'):
            return super().encode_decode(inputs, batch_img_metas)
        x = self.extract_feat(inputs)
        return head.predict_with_images(x, batch_img_metas, self.test_cfg,
                                        self.denormalize(inputs))

    def _decode_head_forward_train(self,
                                   inputs: List[Tensor],
                                   data_samples: SampleList,
                                   images: Optional[Tensor] = None) -> dict:
        if getattr(self.decode_head, 'requires_images', False):
            loss_decode = self.decode_head.loss(
                inputs, data_samples, self.train_cfg, images=images)
        else:
            loss_decode = self.decode_head.loss(inputs, data_samples,
                                                self.train_cfg)
        return add_prefix(loss_decode, 'decode')

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of a batch (decode head with images, auxiliary heads)."""
        x = self.extract_feat(inputs)
        losses = dict()
        losses.update(
            self._decode_head_forward_train(
                x, data_samples, images=self.denormalize(inputs).detach()))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        return losses
