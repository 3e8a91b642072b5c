# DeepLabV3+ with a ResNet-18-V1c trained from scratch (no pretrained weights
# can be fetched on CPU CI); BN, not SyncBN. Small enough to train on 2 cores.
_base_ = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    # half-width ResNet-18 (stage widths 32-64-128-256)
    backbone=dict(
        depth=18, stem_channels=32, base_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=256,
        channels=64,
        c1_in_channels=32,
        c1_channels=16,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=128, channels=32, norm_cfg=norm_cfg))
