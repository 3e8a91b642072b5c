# CAM-GAP baseline on VOC 2012 aug (image labels), R-101, same data and
# schedule as the single-stage R-101 config (Araslanov & Roth, CVPR 2020,
# https://arxiv.org/abs/2005.08104, Sec. 3.2).
_base_ = './sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    type='EncoderDecoder',
    decode_head=dict(
        _delete_=True,
        type='CAMHead',
        in_channels=2048,
        in_index=3,
        channels=2048,
        dropout_ratio=0.5,
        num_classes=21,
        background_score=0.1,
        cls_score_thr=0.1,  # the same test-time class filter as sswss
        align_corners=False,
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            loss_weight=1.0,
            loss_name='loss_cls')))
custom_hooks = []
