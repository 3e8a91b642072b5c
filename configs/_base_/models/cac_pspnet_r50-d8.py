# Context-Aware Consistency (Lai et al., CVPR 2021) on PSPNet R-50-D8 as the
# authors' code builds it (dvlab-research/Context-Aware-Consistency,
# models/model.py with backbone 'psp', models/encoder.py): a deep-stem
# ResNet-50 dilated to output stride 8 (their 'deepbase_resnet50_dilated8',
# MMSeg's ResNetV1c-50-D8), the pyramid pooling module (bins 1-2-3-6, 512
# channels, 3x3 bottleneck) and the projector Phi on the PSP bottleneck
# features, all as in the MMSeg-standard model of the -mmseg variant configs
# (configs/cac/_base_/cac_pspnet_r50-d8-mmseg.py), except that the authors'
# classifier is a plain 1x1 conv (no dropout before it), there is no
# auxiliary head, and the cross-entropy is averaged over the non-ignored
# pixels (their CE_loss = F.cross_entropy(..., ignore_index=255)).
_base_ = '../../cac/_base_/cac_pspnet_r50-d8-mmseg.py'
model = dict(
    decode_head=dict(dropout_ratio=0, loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=None)
