# Context-Aware Consistency (Lai et al., CVPR 2021) on MMSeg's DeepLabV3+
# R-50-D8: the MMSeg-standard model of the -mmseg variant configs (dilated
# ResNetV1c-50 at output stride 8, 512-channel depthwise separable decoder,
# auxiliary FCN head with CE weight 0.4, align_corners=False). The authors'
# model of the paper configs,
# configs/_base_/models/cac_deeplabv3plus_r50-d8.py, is this one with their
# backbone, decoder and loss (configs/cac/README.md, "Paper configs vs MMSeg
# choices").
# The decoder features before the classifier (512 channels) have stride 4:
# they are average-pooled 2x2 to stride 8 before the projector Phi
# (Sec. 4.1) and the main classifier gives the pseudo-labels / confidences
# on the same pooled features (authors' models/model.py). Batches come from
# mmdet's MultiBranchDataPreprocessor ('sup', 'view1', 'view2').
# All B*h*w pixels of each view are negatives (num_negatives=None): 6,400
# per view with 4 unlabeled 320x320 crops per GPU (authors' selected_num).
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
model = dict(
    type='ContextAwareConsistency',
    # the base's SegDataPreProcessor (crops padded to multiples of 8) in
    # mmdet's, which batches the 'sup', 'view1' and 'view2' branches
    data_preprocessor=dict(
        _delete_=True,
        type='mmdet.MultiBranchDataPreprocessor',
        data_preprocessor=dict(
            _base_.model.data_preprocessor, size_divisor=8)),
    # DeepLabV3+'s head exposing the decoder features the projector needs
    decode_head=dict(type='DepthwiseSeparableASPPFeatureHead'),
    projector=dict(type='Projector', in_channels=512, pool=True),
    loss_dc=dict(
        type='DirectionalContrastiveLoss',
        temperature=0.1,
        pos_thresh=0.75,
        num_negatives=None,
        memory_bank_size=1),
    dc_weight=0.1,
    feature_stride=8)
