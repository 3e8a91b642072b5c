# Schedule of Lai et al. (CVPR 2021, Sec. 4.1) on Cityscapes: as on VOC
# (schedule_cac_voc12aug-2xb4-92k.py: 80 epochs of the authors' fixed 1157
# steps = 92,560 iterations, DC after 5 epochs = 5,785) but lr 0.1 for the
# head / projector and 0.01 for the backbone. Set by each config: 8
# labeled + 8 unlabeled images per step on 4 GPUs (2 + 2 per process,
# "4xb2": batch_size = 4), no memory bank (the authors' step_save = 0:
# model.loss_dc.memory_bank_size = 0), so the negatives of a step are the
# 2 x 90 x 90 = 16,200 pixels of each view per GPU (their selected_num).
_base_ = './schedule_cac_voc12aug-2xb4-92k.py'
optimizer = dict(lr=0.1)
optim_wrapper = dict(optimizer=optimizer)
