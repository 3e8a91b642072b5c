"""The ancillary model of `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_: a segmentor that sees image and boxes."""
from typing import List, Tuple

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptSampleList, SampleList
from torch import Tensor


def boxes_of(data_samples: SampleList, num_classes: int
             ) -> Tuple[List[Tensor], List[Tensor]]:
    """The ``gt_instances`` boxes and labels of every sample.

    Raises:
        ValueError: a sample carries no boxes at all (its image path is
            named), or a box label is not a class of the model.
    """
    bboxes, labels = [], []
    for sample in data_samples:
        # an empty box list is fine (e.g. a crop that cut every box away:
        # the box mask says "background everywhere"); no list is an error
        if 'gt_instances' not in sample:
            raise ValueError(
                f"{sample.metainfo.get('img_path', '<image>')}: the box "
                'encoder needs boxes but this sample has none (supervision '
                f"{sample.metainfo.get('supervision', '?')!r}); load them "
                'with LoadBoxAnnotations on a dataset with boxes')
        lab = sample.gt_instances.labels
        if lab.numel() and (lab.min() < 0 or lab.max() >= num_classes):
            raise ValueError(
                f"{sample.metainfo.get('img_path', '<image>')}: box class "
                f'ids {sorted(set(lab.tolist()))} outside [0, {num_classes})')
        bboxes.append(sample.gt_instances.bboxes)
        labels.append(lab)
    return bboxes, labels


@MODELS.register_module()
class BoxConditionedEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` whose backbone features are gated by a box encoder.

    ``backbone → box_encoder(boxes) → [neck] → decode_head``. It is trained
    with the usual decode-head loss on fully labeled images with boxes
    (Eq. 1) and needs boxes at test time as well (load them in the test
    pipeline: ``LoadBoxAnnotations`` on a dataset with ``with_boxes=True``).
    Only ``test_cfg.mode='whole'`` is supported: sliding windows would need
    the boxes cropped per window.

    Args:
        box_encoder (dict): Config of the box encoder, e.g.
            ``dict(type='BoxEncoder', in_channels=(256, 2048),
            in_index=(0, 3))``; its ``num_classes`` defaults to the decode
            head's.
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(self, box_encoder: ConfigType, **kwargs) -> None:
        super().__init__(**kwargs)
        box_encoder = dict(box_encoder)
        box_encoder.setdefault('num_classes', self.num_classes)
        if box_encoder['num_classes'] != self.num_classes:
            raise ValueError(
                f"box_encoder.num_classes={box_encoder['num_classes']} but "
                f'the decode head has {self.num_classes} classes')
        self.box_encoder = MODELS.build(box_encoder)
        if self.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError("BoxConditionedEncoderDecoder supports only "
                             "test_cfg.mode='whole'")

    def extract_feat(self, inputs: Tensor,
                     data_samples: OptSampleList = None) -> List[Tensor]:
        """Backbone features gated by the boxes of ``data_samples``."""
        if data_samples is None:
            raise ValueError('the ancillary (box-conditioned) model needs the '
                             'data samples with boxes')
        return self._box_features(inputs,
                                  *boxes_of(data_samples, self.num_classes))

    def _box_features(self, inputs: Tensor, bboxes: List[Tensor],
                      labels: List[Tensor]) -> List[Tensor]:
        x = self.box_encoder(self.backbone(inputs), bboxes, labels,
                             inputs.shape[-2:])
        return self.neck(x) if self.with_neck else x

    def seg_logits(self, inputs: Tensor, data_samples: SampleList) -> Tensor:
        """Decode-head logits (at the head's resolution) for ``inputs``."""
        return self.decode_head.forward(self.extract_feat(inputs,
                                                          data_samples))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        x = self.extract_feat(inputs, data_samples)
        losses = dict()
        losses.update(self._decode_head_forward_train(x, data_samples))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        return losses

    def predict(self, inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict with the boxes of ``data_samples``.

        ``EncoderDecoder.predict`` hands only the samples' metainfo down to
        :meth:`encode_decode`, so each sample's boxes are added to its
        metainfo (``box_prompts``: ``(bboxes, labels)``) and travel with it.
        """
        if data_samples is None:
            raise ValueError('the ancillary (box-conditioned) model needs the '
                             'data samples with boxes')
        bboxes, labels = boxes_of(data_samples, self.num_classes)
        for sample, b, lab in zip(data_samples, bboxes, labels):
            sample.set_metainfo(dict(box_prompts=(b, lab)))
        return super().predict(inputs, data_samples)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits of ``inputs`` with the boxes carried in the metainfo."""
        if any('box_prompts' not in meta for meta in batch_img_metas):
            raise ValueError('the ancillary (box-conditioned) model predicts '
                             'through predict(), which carries the boxes')
        x = self._box_features(
            inputs, [meta['box_prompts'][0] for meta in batch_img_metas],
            [meta['box_prompts'][1] for meta in batch_img_metas])
        return self.decode_head.predict(x, batch_img_metas, self.test_cfg)

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        return self.seg_logits(inputs, data_samples)
