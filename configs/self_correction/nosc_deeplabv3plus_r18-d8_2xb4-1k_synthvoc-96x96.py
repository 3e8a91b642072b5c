"""No self-correction (Ibrahim et al., CVPR 2020, Sec. 3.2, Eq. 2; Tables 1/3
"No Self-correction" row) on generated VOC data: F = 100 images of train.txt
(masks, hard CE), W = the 300 other trainaug images (boxes only, soft CE to the
frozen ancillary model's distribution); 1 F + 3 W images per batch of 4.

The ancillary checkpoint comes from training
``ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py``; override with
``--cfg-options model.ancillary.checkpoint=...``."""
_base_ = '../baselines/deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
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
labeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/train.txt',
    supervision='full',
    pipeline={{_base_.train_pipeline}})
weak_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
    supervision='box',
    pipeline={{_base_.box_pipeline}})
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=4,
        source_ratio=[1, 3]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[labeled_dataset, weak_dataset]))
