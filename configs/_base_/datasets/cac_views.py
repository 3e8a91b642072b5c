# The two views of an unlabeled image for context-aware consistency
# (Lai et al., CVPR 2021), shared by the semi-supervised dataset bases:
# each view crops its window of OverlappingCropPair, flips on its own,
# gets the authors' low-level augmentation and is packed with its
# 'overlap_box' / 'flip'.
feature_stride = 8  # of the embedding the consistency loss compares
branch_field = ['sup', 'view1', 'view2']
view_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label', 'img_id', 'supervision', 'overlap_box',
                  'crop_window', 'crop_pair_iou')
# the authors' torchvision ColorJitter(0.4, 0.4, 0.4, 0.1): the four jitters
# in a random order, factors uniform in [0.6, 1.4], hue shift uniform in
# [-0.1, 0.1] turns
colour_jitter = dict(
    type='mmdet.RandomOrder',
    transforms=[
        dict(type='mmdet.Brightness', min_mag=0.6, max_mag=1.4),
        dict(type='mmdet.Contrast', min_mag=0.6, max_mag=1.4),
        dict(type='mmdet.Color', min_mag=0.6, max_mag=1.4),
        dict(type='RandomHue', max_shift=0.1),
    ])
# per-view low-level augmentation of the authors' code: blur (p=0.5, 5x5),
# the colour jitter with p=0.8, grayscale p=0.2
view_photometric = [
    dict(type='RandomGaussianBlur', prob=0.5, kernel_size=5),
    dict(type='RandomApply', prob=0.8, transforms=[colour_jitter]),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.299)),  # BGR luma
]
view1_pipeline = [
    dict(type='SelectCropView', index=0, flip_prob=0.5),
    *view_photometric,
    dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
]
view2_pipeline = [
    dict(type='SelectCropView', index=1, flip_prob=0.5),
    *view_photometric,
    dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
]
# the last step of the semi-supervised pipelines: a labeled image is packed
# as the 'sup' branch, an unlabeled one (after OverlappingCropPair) as the
# two views
sup_branch = dict(
    type='mmdet.MultiBranch',
    branch_field=branch_field,
    sup=[dict(type='PackWeakSegInputs')])
view_branches = dict(
    type='mmdet.MultiBranch',
    branch_field=branch_field,
    view1=view1_pipeline,
    view2=view2_pipeline)
