# Recipe (b), step 2: PSPNet + PUS on the single-stage model's round.
#
# A plain PSPNet (half-width R-18 from scratch) trains for 1k iterations on the
# pseudo-masks that the single-stage model of step 1
# (``sswss-round_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py``) predicted
# at its end, with the PUS loss of Pseudo-mask Matters (clamp, beta = kappa =
# 0.5). The default folder is that run's default work dir; point elsewhere
# with ``--cfg-options
# train_dataloader.dataset.data_prefix.pseudo_path=<work_dir>/pseudo_masks/round_1``
# (an absolute path, or relative to ``data_root``).
_base_ = [
    '../pmm/_base_/pmm_pspnet_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_pseudo.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
_step1 = 'sswss-round_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(
            pseudo_path='{{ fileDirname }}/../../work_dirs/' + _step1 +
            '/pseudo_masks/round_1')))
