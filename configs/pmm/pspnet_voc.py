# Pseudo-mask Matters (Li et al., https://arxiv.org/abs/2108.12995), the
# segmentation stage on PASCAL VOC 2012 aug: PSPNet R-101 trained on PPMG
# pseudo-masks with the PUS loss (clamp, beta = kappa = 0.5) for 20k
# iterations (batch 16 = 8 GPUs x 2, lr 0.005, poly), then ONE cyclic round:
# the model predicts the 10,582 training images as the authors' code does
# (MMSeg TTA: scales 0.5-1.75 of (2048, 512) x flip, the mean of the softmax,
# then their dense CRF; NOT restricted to the image labels), the predictions
# replace the pseudo-masks, and training restarts from the initial (ImageNet)
# weights for 20k more iterations without PUS, with a fresh poly schedule.
# Val mIoU is logged at 20k (PUS model) and 40k (cyclic model); the
# pseudo-mask mIoU of the round is in the log.
#
#   tools/dist_train.sh configs/pmm/pspnet_voc.py 8           (8 GPUs)
#   tools/dist_train.sh configs/pmm/pspnet_voc.py 2           (2 CPU processes)
#
# ONE key sets the length: the round ends at round_iters = [0.5] of
# train_cfg.max_iters and the poly schedule (RoundPolyLR, end = max_iters)
# restarts there, so e.g. `--cfg-options train_cfg.max_iters=2000` gives
# 1000 + 1000 iterations with a full poly decay in each round (add
# train_cfg.val_interval=1000 default_hooks.checkpoint.interval=1000 to
# validate / save at the round's end too).
#
# Pseudo-masks first (data/VOCdevkit/VOC2012/PseudoMasks/ppmg):
#   tools/generate_cams.py <cam config> <ckpt> --out-dir work_dirs/cams \
#       --ann-file ImageSets/Segmentation/aug.txt --scales 1.0 0.5 1.5 2.0 --flip
#   tools/generate_pseudo_masks.py --method ppmg --cam-dir work_dirs/cams ...
_base_ = [
    './_base_/pmm_pspnet_r50-d8.py', '../_base_/datasets/voc12aug_pseudo.py',
    '../_base_/default_runtime.py', '../_base_/schedules/iter_based.py'
]
# round ends as fractions of train_cfg.max_iters (hook and lr schedule)
round_iters = [0.5]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes=21),
    auxiliary_head=dict(num_classes=21))
train_dataloader = dict(batch_size=2, num_workers=2)
optimizer = dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
# one poly decay per round (restarted at the round's end with the weights)
param_scheduler = [
    dict(type='RoundPolyLR', round_iters=round_iters, eta_min=1e-4,
         power=0.9, begin=0, by_epoch=False)  # end: train_cfg.max_iters
]
train_cfg = dict(max_iters=40000, val_interval=20000)
default_hooks = dict(checkpoint=dict(interval=20000))
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        round_iters=round_iters,
        supervisions=('pseudo_mask', ),
        predict_pipeline={{_base_.predict_tta_pipeline}},
        tta=True,
        # the CRF of the authors' EncoderDecoder.aug_test (pydensecrf:
        # Gaussian sxy 1 / compat 3, bilateral sxy 67 / srgb 3 / compat 4,
        # 10 iterations) on the merged probabilities
        post_pipeline=[
            dict(type='DenseCRFRefine', key='seg_probs', num_iter=10,
                 gaussian_sxy=1, gaussian_compat=3, bilateral_sxy=67,
                 bilateral_srgb=3, bilateral_compat=4)
        ],
        restrict_to_image_labels=False,
        disable_pus=True,
        restart=True)
]
