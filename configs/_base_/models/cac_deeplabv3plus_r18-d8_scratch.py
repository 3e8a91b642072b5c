# Context-Aware Consistency (Lai et al., CVPR 2021) on the half-width
# DeepLabV3+ R-18 trained from scratch (deeplabv3plus_r18-d8_scratch.py):
# 64-channel stride-4 decoder features, pooled 2x2 before the projector.
# Batches come from mmdet's MultiBranchDataPreprocessor.
_base_ = './deeplabv3plus_r18-d8_scratch.py'
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
    projector=dict(type='Projector', in_channels=64, pool=True),
    loss_dc=dict(
        type='DirectionalContrastiveLoss',
        temperature=0.1,
        pos_thresh=0.75,
        num_negatives=None,
        memory_bank_size=1),
    dc_weight=0.1,
    feature_stride=8)
