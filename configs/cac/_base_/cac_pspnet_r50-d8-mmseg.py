# Context-Aware Consistency (Lai et al., CVPR 2021) on MMSeg's PSPNet R-50-D8:
# the MMSeg-standard model of the -mmseg variant configs (auxiliary FCN head
# with CE weight 0.4, Dropout2d(0.1) before the classifier). The authors'
# model of the paper configs, configs/_base_/models/cac_pspnet_r50-d8.py, is
# this one without the dropout and the auxiliary head (configs/cac/README.md,
# "Paper configs vs MMSeg choices").
# The projector Phi (two 1x1 convs, 128-d, L2-normalised) embeds the PSP
# bottleneck features (stride 8, 512 channels: the paper's "encoder" output
# before the classifier). Batches come from mmdet's MultiBranchDataPreprocessor
# ('sup', 'view1', 'view2'); no fixed `size` (crops already have theirs,
# smaller labeled images pad to the batch maximum, a multiple of 8).
# The DC loss keeps all B*h*w pixels of each view as negatives
# (num_negatives=None): with 4 unlabeled 320x320 crops per GPU that is
# 4 * 40 * 40 = 6,400 per view, exactly the authors' selected_num for VOC.
_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'
model = dict(
    type='ContextAwareConsistency',
    # the base's SegDataPreProcessor (crops padded to multiples of 8) in
    # mmdet's, which batches the 'sup', 'view1' and 'view2' branches
    data_preprocessor=dict(
        _delete_=True,
        type='mmdet.MultiBranchDataPreprocessor',
        data_preprocessor=dict(
            _base_.model.data_preprocessor, size_divisor=8)),
    projector=dict(type='Projector', in_channels=512, pool=False),
    loss_dc=dict(
        type='DirectionalContrastiveLoss',
        temperature=0.1,
        pos_thresh=0.75,
        num_negatives=None,
        memory_bank_size=1),
    dc_weight=0.1,
    feature_stride=8)
