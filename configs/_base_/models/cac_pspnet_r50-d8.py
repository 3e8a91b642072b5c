# Context-Aware Consistency (Lai et al., CVPR 2021) on PSPNet R-50-D8 as the
# authors' code builds it (dvlab-research/Context-Aware-Consistency,
# models/model.py with backbone 'psp', models/encoder.py): a deep-stem
# ResNet-50 dilated to output stride 8 (their 'deepbase_resnet50_dilated8',
# MMSeg's ResNetV1c-50-D8), the pyramid pooling module (bins 1-2-3-6, 512
# channels, 3x3 bottleneck) and a plain 1x1 classifier: no dropout before it
# and no auxiliary head; cross-entropy averaged over the non-ignored pixels.
# The projector Phi (two 1x1 convs, 128-d, L2-normalised) embeds the PSP
# bottleneck features (stride 8, 512 channels: the paper's "encoder" output
# before the classifier). Batches come from mmdet's MultiBranchDataPreprocessor
# ('sup', 'view1', 'view2'); no fixed `size` (crops already have theirs).
# The DC loss keeps all B*h*w pixels of each view as negatives
# (num_negatives=None): with 4 unlabeled 320x320 crops per GPU that is
# 4 * 40 * 40 = 6,400 per view, exactly the authors' selected_num for VOC.
# The MMSeg-standard model of the -mmseg variant configs:
# configs/cac/_base_/cac_pspnet_r50-d8-mmseg.py.
_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'
model = dict(
    type='ContextAwareConsistency',
    data_preprocessor=dict(
        _delete_=True,
        type='mmdet.MultiBranchDataPreprocessor',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size_divisor=8)),
    decode_head=dict(
        dropout_ratio=0,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    auxiliary_head=None,
    projector=dict(type='Projector', in_channels=512, pool=False),
    loss_dc=dict(
        type='DirectionalContrastiveLoss',
        temperature=0.1,
        pos_thresh=0.75,
        num_negatives=None,
        memory_bank_size=1),
    dc_weight=0.1,
    feature_stride=8)
