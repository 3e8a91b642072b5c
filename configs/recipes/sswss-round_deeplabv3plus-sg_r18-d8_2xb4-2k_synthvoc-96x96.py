# Recipe (b), step 1: a single-stage model hands its predictions to a cyclic
# round.
#
# Single-Stage WSSS (Araslanov & Roth, CVPR 2020) trains from the image labels
# of the 400 trainaug images (the paper's schedule of
# ``configs/single_stage/sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py``).
# At the last iteration the ``CyclicPseudoMaskHook`` of Pseudo-mask Matters
# (Li et al., ICCV 2021, Sec. 3.5) predicts every image-label image with the
# trained model (restricted to its image labels, then refined by a dense CRF
# on the predicted probabilities) into ``<work_dir>/pseudo_masks/round_1``:
# pseudo-masks that step 2
# (``pspnet-pus_r18-d8_2xb4-1k_synthvoc-sswss-round-96x96.py``) trains a PSPNet
# with PUS on.
_base_ = '../single_stage/sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py'
custom_hooks = [
    dict(type='SegLossWarmupHook', warmup_iters=500),  # as the base config
    dict(
        type='CyclicPseudoMaskHook',
        round_iters=[1.0],  # the end of training
        supervisions=('image_label', ),
        predict_pipeline={{_base_.predict_pipeline}},
        restrict_to_image_labels=True,
        post_pipeline=[
            dict(type='DenseCRFRefine', key='seg_probs', num_iter=10)
        ],
        disable_pus=False,
        restart=False)
]
