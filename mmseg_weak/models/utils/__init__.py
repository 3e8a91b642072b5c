from .pamr import (PixelAdaptiveMaskRefinement, pamr_affinity,
                   pamr_neighbour_offsets, pamr_refine)
from .pseudo_gt import pseudo_gt_from_masks
from .stochastic_gate import GlobalCueInjection, StochasticGate

__all__ = [
    'PixelAdaptiveMaskRefinement', 'pamr_affinity', 'pamr_neighbour_offsets',
    'pamr_refine', 'pseudo_gt_from_masks', 'GlobalCueInjection',
    'StochasticGate'
]
from .dense_crf import DenseCRF, dense_crf  # noqa: E402
__all__ += ['DenseCRF', 'dense_crf']
from .cam_pseudo_masks import (argmax_pseudo_mask, ppmg,  # noqa: E402
                               pseudo_mask_from_cams)
__all__ += ['argmax_pseudo_mask', 'ppmg', 'pseudo_mask_from_cams']
