# MS COCO 2014 for the segmentation stage of weakly supervised pipelines
# (Pseudo-mask Matters, Li et al. 2021): train2014 on pseudo-masks, val2014 on
# ground-truth masks, 91 classes (background + category ids 1-90, the 10
# unused ids never occur). Expected layout, written by
#   python tools/dataset_converters/coco2014_to_voc.py data/coco2014
#   data/coco2014/{train2014, val2014}/COCO_<split>2014_<id>.jpg
#   data/coco2014/voc_format/class_labels/<stem>.png   (ground truth)
#   data/coco2014/voc_format/{train,val}.txt            (82,081 / 40,137)
#   data/coco2014/voc_format/<pseudo_mask_dir>/<stem>.png (your pseudo-masks)
# Settings follow the authors' COCO config (MMSeg-style 512x512 crops of
# images resized around 2048x512, 2 images per GPU; they trained on 32 GPUs,
# batch 64, lr 0.02, 40k iterations).
# Point `pseudo_path` at your pseudo-masks in the derived config, e.g.
#   train_dataloader = dict(dataset=dict(data_prefix=dict(
#       pseudo_path='voc_format/ppmg')))
dataset_type = 'WeakCOCODataset'
data_root = 'data/coco2014'
num_classes = 91
pseudo_mask_dir = 'voc_format/pseudo_masks'
crop_size = (512, 512)
img_scale = (2048, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='voc_format/train.txt',
        supervision='pseudo_mask',
        data_prefix=dict(
            img_path='train2014',
            seg_map_path='voc_format/class_labels',
            pseudo_path=pseudo_mask_dir),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='voc_format/val.txt',
        supervision='full',
        data_prefix=dict(
            img_path='val2014', seg_map_path='voc_format/class_labels'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
