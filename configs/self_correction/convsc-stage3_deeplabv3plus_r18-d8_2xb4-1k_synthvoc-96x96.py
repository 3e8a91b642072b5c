# Convolutional self-correction, stage 3 of 3 (Ibrahim et al., CVPR 2020, Sec.
# 3.4, Eq. 6; Tables 1/3 "Conv. Self-correction" row): fine-tune the stage-2
# model (primary + correction network) on F and W: hard CE on F, soft CE to
# q_conv on W, correction loss on F. 1 F + 3 W images per batch of 4.
_base_ = './nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
_anc = 'convsc-stage1-ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96'
_stage2 = 'convsc-stage2_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96'
model = dict(
    ancillary=dict(
        config=f'configs/self_correction/{_anc}.py',
        checkpoint=f'work_dirs/{_anc}/iter_1000.pth'),
    decode_head=dict(type='ConvSelfCorrectionHead', correction_channels=128))
load_from = f'work_dirs/{_stage2}/iter_1000.pth'
# the correction network needs ancillary logits, hence boxes, on F too
labeled_dataset = _base_.labeled_dataset
labeled_dataset.update(with_boxes=True, pipeline=_base_.train_box_pipeline)
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, _base_.weak_dataset]))
