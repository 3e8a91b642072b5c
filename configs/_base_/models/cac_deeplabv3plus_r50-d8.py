# Context-Aware Consistency (Lai et al., CVPR 2021) on DeepLabV3+ ResNet-50 as
# the authors' code builds it (dvlab-research/Context-Aware-Consistency,
# models/model.py with backbone 'deeplab_v3+', models/modeling/deeplab.py,
# backbone/resnet.py, aspp.py, decoder.py; configs/voc_cac_deeplabv3+_*.json
# "out_dim": 256, "downsample": true): the MMSeg-standard model of the -mmseg
# variant configs (configs/cac/_base_/cac_deeplabv3plus_r50-d8-mmseg.py) with
# the authors' backbone, decoder and loss:
# - backbone: torchvision-layout ResNet-50 (7x7 stem) at output stride 16:
#   strides 1-2-2-1, the last stage with the multi-grid dilations 2-4-8
#   (their _make_MG_unit: blocks [1, 2, 4] x dilation 2), ImageNet weights
#   of torchvision (their pretrained/resnet50-19c8e357.pth), BN trained
#   (SyncBN: their convert_sync_batchnorm);
# - decoder: their plain DeepLabV3+ decoder (DeepLabV3PlusPlainHead): ASPP
#   of plain atrous convs at rates 1-6-12-18 (output stride 16) + image
#   pooling, 1x1 projection to 256 channels + BN + ReLU + Dropout(0.5),
#   skip 256 -> 48, two 3x3 convs with Dropout(0.5) between, every resize
#   with align_corners=True, then the classifier (element-wise Dropout(0.1)
#   + 1x1 conv); Kaiming fan_in initialisation; no auxiliary head;
# - supervised loss: cross-entropy averaged over the non-ignored pixels
#   (their CE_loss = F.cross_entropy(..., ignore_index=255));
# - the decoder features (256 channels, stride 4) are average-pooled 2x2 to
#   stride 8 before the projector Phi (Sec. 4.1), and the main classifier
#   gives the pseudo-labels / confidences on the same pooled features; the
#   overlapping crops are aligned to that stride (feature_stride = 8 = the
#   crop pair's stride, configs/_base_/datasets/cac_views.py).
# All B*h*w pixels of each view are negatives (num_negatives=None): 6,400
# per view with 4 unlabeled 320x320 crops per GPU (authors' selected_num).
_base_ = '../../cac/_base_/cac_deeplabv3plus_r50-d8-mmseg.py'
model = dict(
    pretrained='https://download.pytorch.org/models/resnet50-19c8e357.pth',
    backbone=dict(
        type='ResNet',
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        # MMSeg's multi_grid holds the absolute rates of the last stage
        multi_grid=(2, 4, 8),
        contract_dilation=False),
    decode_head=dict(
        type='DeepLabV3PlusPlainHead',
        channels=256,
        dilations=(1, 6, 12, 18),
        c1_in_channels=256,
        c1_channels=48,
        aspp_dropout=0.5,
        decoder_dropout=0.5,
        dropout_ratio=0.1,
        dropout_type='element',
        align_corners=True,
        # the authors' Kaiming fan_in init of every conv, in init_weights
        reference_init=True,
        loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=None,
    projector=dict(in_channels=256))
