from .cam_pseudo_masks import argmax_pseudo_mask, ppmg, pseudo_mask_from_cams
from .dense_crf import DenseCRF, crf_kernels, dense_crf
from .pamr import (PixelAdaptiveMaskRefinement, pamr_affinity,
                   pamr_neighbour_offsets, pamr_refine)
from .pseudo_gt import pseudo_gt_from_masks
from .stochastic_gate import GlobalCueInjection, StochasticGate
from .zero_loss import decode_loss_names, zero_loss

__all__ = [
    'DenseCRF', 'GlobalCueInjection', 'PixelAdaptiveMaskRefinement',
    'StochasticGate', 'argmax_pseudo_mask', 'crf_kernels', 'decode_loss_names',
    'dense_crf', 'pamr_affinity', 'pamr_neighbour_offsets', 'pamr_refine',
    'ppmg', 'pseudo_gt_from_masks', 'pseudo_mask_from_cams', 'zero_loss'
]
