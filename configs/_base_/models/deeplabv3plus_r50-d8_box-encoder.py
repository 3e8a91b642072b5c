# Ancillary model of Ibrahim et al. (CVPR 2020): DeepLabV3+ R-50 whose
# stride-4 (256 ch) and encoder (2048 ch, feeding the ASPP) features are gated
# by the box encoder.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
model = dict(
    type='BoxConditionedEncoderDecoder',
    box_encoder=dict(
        type='BoxEncoder', in_channels=(256, 2048), in_index=(0, 3)))
