# Pseudo-masks from CAMs with parts of two papers, as one pipeline of the
# registered pseudo-label transforms (the contract: mmseg_weak.utils.soft_maps):
#   Pseudo-mask Matters Eq. 1-3 (normalised CAMs + exponential background)
#   -> PAMR of Single-Stage WSSS (Araslanov & Roth, Sec. 3.3) on the image
#   -> dense CRF -> argmax (class ids of the image's labels only).
# Offline: tools/generate_pseudo_masks.py --pipeline <this file> --cam-dir ...
# (--cam-dir sets LoadCAMs' cam_dir); the PNGs train any pseudo-mask config,
# e.g. configs/recipes/pspnet_r18-d8_2xb4-1k_synthvoc-cam-pamr-crf-96x96.py.
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCAMs', cam_dir='work_dirs/cams'),
    dict(type='NormalizeCAMs'),
    dict(type='AddCAMBackground', alpha=4),
    dict(type='PAMRRefineMasks', mask_key='cam_scores', num_iter=10),
    dict(type='DenseCRFRefine', key='cam_scores', num_iter=10),
    dict(type='ArgmaxPseudoMask', score_key='cam_scores', use_crf=False),
]
