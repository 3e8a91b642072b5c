from .box_masks import BoxesToSegMap, RasterizeBoxMasks
from .cam_loading import LoadCAMs
from .cam_to_pseudo_mask import (AddCAMBackground, ArgmaxPseudoMask,
                                 CoVSmoothCAMs, NormalizeCAMs,
                                 ProportionalPseudoMask)
from .dense_crf_refine import DenseCRFRefine
from .formatting import PackWeakSegInputs
from .geometric import BoxAwareRandomCrop
from .instance_boxes import LoadBoxesFromInstanceMap
from .loading import (LoadBoxAnnotations, LoadImageLabels,
                      LoadVerifiedAnnotations)
from .overlapping_crop_pair import OverlappingCropPair, SelectCropView
from .pamr_transform import PAMRRefineMasks
from .random_gaussian_blur import RandomGaussianBlur
from .random_hue import RandomHue
from .random_resize import (PaddedRandomCrop, RandomLongSideResize,
                            RandomResizedCrop)

__all__ = [
    'AddCAMBackground', 'ArgmaxPseudoMask', 'BoxAwareRandomCrop',
    'BoxesToSegMap', 'CoVSmoothCAMs', 'DenseCRFRefine',
    'LoadBoxAnnotations', 'LoadBoxesFromInstanceMap', 'LoadCAMs',
    'LoadImageLabels', 'LoadVerifiedAnnotations', 'NormalizeCAMs',
    'OverlappingCropPair', 'PAMRRefineMasks', 'PackWeakSegInputs',
    'PaddedRandomCrop', 'ProportionalPseudoMask', 'RandomGaussianBlur',
    'RandomHue', 'RandomLongSideResize', 'RandomResizedCrop',
    'RasterizeBoxMasks', 'SelectCropView'
]
