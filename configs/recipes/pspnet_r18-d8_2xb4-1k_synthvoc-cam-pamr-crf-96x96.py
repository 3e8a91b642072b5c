# Recipe (d): CAMs -> PAMR -> dense CRF pseudo-masks -> PSPNet.
#
# The pseudo-masks are made offline by one pipeline of the registered
# pseudo-label transforms, parts of two papers
# (``configs/recipes/pseudo_masks/cam_pamr_crf.py``: the CAM background of
# Pseudo-mask Matters, Eq. 1-3 -> PAMR of Single-Stage WSSS, Sec. 3.3 -> dense
# CRF -> argmax)::
#
#     python tools/generate_pseudo_masks.py \
#         --pipeline configs/recipes/pseudo_masks/cam_pamr_crf.py \
#         --img-dir $VOC/JPEGImages --cam-dir work_dirs/cams \
#         --ids $VOC/ImageSets/Segmentation/aug.txt \
#         --out-dir $VOC/PseudoMasks/cam_pamr_crf
#
# and a plain MMSeg PSPNet (half-width R-18 from scratch) trains on them for 1k
# iterations with the cross-entropy.
_base_ = [
    '../_base_/models/pspnet_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_pseudo.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(
    dataset=dict(data_prefix=dict(pseudo_path='PseudoMasks/cam_pamr_crf')))
