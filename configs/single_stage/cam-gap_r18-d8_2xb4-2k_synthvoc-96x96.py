# CAM-GAP baseline (the baseline of Araslanov & Roth, CVPR 2020, Sec. 3.2,
# https://arxiv.org/abs/2005.08104) on generated data: global average pooling
# + multi-label soft-margin classifier on the last backbone stage; test-time
# masks are the normalised CAMs with a constant background score.
_base_ = ['./sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py']
model = dict(
    type='EncoderDecoder',
    decode_head=dict(
        _delete_=True,
        type='CAMHead',
        in_channels=256,
        in_index=3,
        channels=256,
        dropout_ratio=0.5,
        num_classes={{_base_.num_classes}},
        background_score=0.1,
        cls_score_thr=0.1,  # the same test-time class filter as sswss
        align_corners=False,
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            loss_weight=1.0,
            loss_name='loss_cls')))
custom_hooks = []
