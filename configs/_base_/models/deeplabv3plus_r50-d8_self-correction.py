# Primary model of Ibrahim et al. (CVPR 2020): DeepLabV3+ R-50 trained on
# F + W through a self-correction head wrapping MMSeg's DeepLabV3+ head; the
# leaf config names the head type and the ancillary model.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
model = dict(
    type='SelfCorrectingEncoderDecoder',
    ancillary=dict(config=None, checkpoint=None),
    decode_head=dict(
        _delete_=True,
        type='LinearSelfCorrectionHead',
        primary={{_base_.model.decode_head}}))
