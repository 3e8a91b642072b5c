# Fully supervised upper bound on generated VOC data: masks for all 400
# trainaug images.
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
