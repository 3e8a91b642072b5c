# PASCAL VOC 2012 + SBD aug through WeakVOCDataset. Expected layout:
#   data/VOCdevkit/VOC2012/{JPEGImages, SegmentationClass, SegmentationClassAug,
#                           Annotations, ImageSets/Segmentation/{train,val,aug}.txt}
# aug.txt = the 10,582 "trainaug" ids (masks for all of them in
# SegmentationClassAug); train.txt = 1,464; val.txt = 1,449.
# Split lists for weak / semi-supervised runs:
#   python tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012 \
#       --labeled-lists ImageSets/Segmentation/train.txt --sizes 1/16 1/8 1/4
dataset_type = 'WeakVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
num_classes = 21
crop_size = (512, 512)
img_scale = (2048, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
box_fill_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxAnnotations'),
    dict(type='BoxesToSegMap'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
# fully labeled images with their boxes (ancillary / self-correction models)
train_box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='LoadBoxAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
# box-only images (boxes, no mask)
box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
# evaluation of box-conditioned (ancillary) models: boxes at test time
test_box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxAnnotations'),  # before Resize, which scales the boxes
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
# the training images at test scale with their image labels: what a cyclic
# round (CyclicPseudoMaskHook, Pseudo-mask Matters) predicts
predict_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadImageLabels', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Segmentation/aug.txt',
        supervision='full',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClass',
            ann_path='Annotations'),
        supervision='full',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
