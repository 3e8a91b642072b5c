# Pseudo-mask Matters (Li et al., https://arxiv.org/abs/2108.12995), the
# segmentation stage on MS COCO 2014 (91 ids: background + category ids):
# PSPNet R-101 on pseudo-masks with the PUS loss (clamp, beta = kappa = 0.8),
# lr 0.02, 40k iterations poly, no cyclic round. Convert the annotations
# first (tools/dataset_converters/coco2014_to_voc.py) and write the
# pseudo-masks to data/coco2014/voc_format/ppmg.
_base_ = [
    './_base_/pmm_pspnet_r50-d8.py', '../_base_/datasets/coco2014_pseudo.py',
    '../_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes=91, loss_decode=dict(beta=0.8, kappa=0.8)),
    auxiliary_head=dict(num_classes=91, loss_decode=dict(beta=0.8, kappa=0.8)))
train_dataloader = dict(
    dataset=dict(data_prefix=dict(pseudo_path='voc_format/ppmg')))
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
