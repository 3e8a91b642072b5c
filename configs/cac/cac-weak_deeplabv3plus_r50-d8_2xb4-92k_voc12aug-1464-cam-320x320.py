# Context-Aware Consistency with extra image-level labels (Lai et al., CVPR
# 2021, Sec. 3.5 / 4.4), DeepLabV3+ R-50: the 1,464 VOC train masks + the other
# 9,118 trainaug images with image labels, through CAM pseudo-masks
# (voc12aug_semi-1464-cam.py). L = L_ce + 0.1 L_dc + lambda_w L_w: the
# auxiliary classifier C_w (a 1x1 conv on the decoder features, discarded at
# inference) learns the pseudo-masks of both views of each image-labeled image
# with weight lambda_w = 0.4 ramped up as in CCT (sigmoid ramp-up over 10% of
# the 80 epochs), after the same 5-epoch warm-up as the DC loss. Table 5, "Ours
# ResNet-50": 76.1 mIoU (74.5 without the image labels).
#
# Trains like the authors' code (model, augmentation, loss: see
# configs/cac/README.md); MMSeg-standard variant:
# cac-weak_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1464-cam-320x320-mmseg.py.
_base_ = [
    '../_base_/models/cac_deeplabv3plus_r50-d8.py',
    '../_base_/datasets/voc12aug_semi-1464-cam.py',
    '../_base_/default_runtime.py',
    './_base_/schedule_cac_voc12aug-2xb4-92k.py'
]
model = dict(
    warmup_iters=5785,  # 5 epochs of 1157 steps (see the schedule)
    decode_head=dict(num_classes={{_base_.num_classes}}),
    weak_head=dict(
        type='PixelClassifierHead',
        in_channels=256,
        num_classes={{_base_.num_classes}},
        dropout_ratio=0.1,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', loss_weight=0.4,
            loss_name='loss_weak')),
    weak_rampup_iters=8 * 1157)
train_dataloader = dict(batch_size=8, sampler=dict(batch_size=8))  # 4 + 4
