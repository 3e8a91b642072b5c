# Context-Aware Consistency (Lai et al., CVPR 2021) on generated VOC data: 1/8
# of the 400 trainaug images labeled (50 masks), the other 350 unlabeled,
# DeepLabV3+ R-18 (half width) from scratch. Per process and step 4 labeled
# images + 4 unlabeled images (two 96x96 views each), 2 processes. Twin of
# supervised_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py (same model,
# schedule and labeled stream, no unlabeled branch). Warm-up: 5 "epochs" of the
# unlabeled set as the authors count them (350 images / 8 per step = 44 steps),
# i.e. 220 supervised-only iterations.
_base_ = [
    '../_base_/models/cac_deeplabv3plus_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_semi.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
    warmup_iters=220)
