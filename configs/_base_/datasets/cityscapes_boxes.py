# Cityscapes as in Ibrahim et al. (CVPR 2020, Sec. 4.2): the 11 object classes
# are foreground, the rest background (WeakCityscapesDataset); boxes from the
# gtFine instance ids. F = 914 fully labeled (masks + boxes), W = the other
# 2,061 training images (boxes only); 1 F + 3 W images per batch of 4
# (`labeled_dataset` / `weak_dataset`, as voc12aug_boxes-f1464.py).
# Layout: MMSeg's converted Cityscapes (tools/dataset_converters/cityscapes.py
# of MMSeg writes *_gtFine_labelTrainIds.png) under data/cityscapes, plus
#   (cd data/cityscapes/leftImg8bit/train && find . -name '*_leftImg8bit.png' \
#     | sed 's|^\./||; s|_leftImg8bit.png$||' | sort) > data/cityscapes/train.txt
#   python tools/dataset_converters/make_splits.py data/cityscapes \
#     --pool train.txt --sizes 914 --out-dir splits
dataset_type = 'WeakCityscapesDataset'
data_root = 'data/cityscapes'
num_classes = 12
crop_size = (512, 1024)
img_scale = (2048, 1024)
train_box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='LoadBoxesFromInstanceMap'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxesFromInstanceMap'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='BoxAwareRandomCrop', crop_size=crop_size),
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
test_box_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxesFromInstanceMap'),  # before Resize (scales boxes)
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
labeled_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='splits/seed0/labeled_914.txt',
    supervision='full',
    with_boxes=True,
    pipeline=train_box_pipeline)
weak_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='splits/seed0/weak_914.txt',
    supervision='box',
    pipeline=box_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(
        type='mmdet.MultiSourceSampler', batch_size=4, source_ratio=[1, 3]),
    dataset=dict(
        type='ConcatDataset', datasets=[labeled_dataset, weak_dataset]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        supervision='full',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
