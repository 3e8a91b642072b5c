"""Convolutional self-correction, stage 2 of 3 (Ibrahim et al., CVPR 2020,
Sec. 3.4): primary model + correction network trained on F only (first and
last terms of Eq. 6), with the stage-1 ancillary model (boxes of F needed)."""
_base_ = '../baselines/deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
_anc = 'convsc-stage1_ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96'
model = dict(
    type='SelfCorrectingEncoderDecoder',
    ancillary=dict(
        config=f'configs/self_correction/{_anc}.py',
        checkpoint=f'work_dirs/{_anc}/iter_1000.pth'),
    decode_head=dict(
        _delete_=True,
        type='ConvSelfCorrectionHead',
        correction_channels=128,
        primary={{_base_.model.decode_head}}))
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/train.txt',
        with_boxes=True,
        pipeline={{_base_.train_box_pipeline}}))
