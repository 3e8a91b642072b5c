# Ancillary model (Ibrahim et al., CVPR 2020, Sec. 3.1; Tables 1/3 "Ancillary
# Model" row) on generated VOC data: DeepLabV3+ whose stride-4 and encoder
# features are gated by a box encoder, trained with CE (Eq. 1) on the 100 fully
# labeled images (masks + boxes) of train.txt; evaluated with boxes.
_base_ = '../baselines/deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
model = dict(
    type='BoxConditionedEncoderDecoder',
    # half-width ResNet-18: stage 0 (stride 4) has 32, stage 3 256 channels
    box_encoder=dict(type='BoxEncoder', in_channels=(32, 256),
                     in_index=(0, 3)))
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/train.txt',
        with_boxes=True,
        pipeline={{_base_.train_box_pipeline}}))
val_dataloader = dict(
    dataset=dict(with_boxes=True, pipeline={{_base_.test_box_pipeline}}))
test_dataloader = val_dataloader
