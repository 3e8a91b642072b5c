# No self-correction (Ibrahim et al., CVPR 2020, Sec. 3.2, Eq. 2; Tables 1/3
# "No Self-correction" row) on generated VOC data, with the images of the
# box-fill baseline (its base,
# ``configs/baselines/boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py``):
# F = the 100 images of train.txt (masks, hard CE) and W = the 300 other
# trainaug images (boxes only), 1 F + 3 W per batch of 4; W's boxes are not
# filled as masks but fed to the frozen ancillary model, whose distribution is
# their soft CE target.
#
# The ancillary checkpoint comes from training
# ``ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py``; override with
# ``--cfg-options model.ancillary.checkpoint=...``.
_base_ = '../baselines/boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
_anc = 'ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96'
model = dict(
    type='SelfCorrectingEncoderDecoder',
    ancillary=dict(
        config=f'configs/self_correction/{_anc}.py',
        checkpoint=f'work_dirs/{_anc}/iter_1000.pth'),
    decode_head=dict(
        _delete_=True,
        type='NoSelfCorrectionHead',
        primary={{_base_.model.decode_head}}))
weak_dataset = _base_.weak_dataset
weak_dataset.pipeline = _base_.box_pipeline
train_dataloader = dict(
    dataset=dict(datasets=[_base_.labeled_dataset, weak_dataset]))
