from .box_masks import BoxesToSegMap, RasterizeBoxMasks
from .dense_crf_refine import DenseCRFRefine
from .formatting import PackWeakSegInputs
from .geometric import BoxAwareRandomCrop
from .instance_boxes import LoadBoxesFromInstanceMap
from .loading import (LoadBoxAnnotations, LoadImageLabels,
                      LoadVerifiedAnnotations)
from .pamr_transform import PAMRRefineMasks

__all__ = [
    'BoxesToSegMap', 'RasterizeBoxMasks', 'PackWeakSegInputs',
    'BoxAwareRandomCrop', 'LoadBoxesFromInstanceMap', 'LoadBoxAnnotations',
    'LoadImageLabels', 'LoadVerifiedAnnotations', 'PAMRRefineMasks',
    'DenseCRFRefine'
]
from .cam_loading import LoadCAMs  # noqa: E402
from .cam_to_pseudo_mask import (AddCAMBackground, ArgmaxPseudoMask,  # noqa
                                 CoVSmoothCAMs, NormalizeCAMs,
                                 ProportionalPseudoMask)

__all__ += [
    'LoadCAMs', 'NormalizeCAMs', 'AddCAMBackground', 'CoVSmoothCAMs',
    'ProportionalPseudoMask', 'ArgmaxPseudoMask'
]
from .overlapping_crop_pair import (OverlappingCropPair,  # noqa: E402
                                    SelectCropView)
from .random_gaussian_blur import RandomGaussianBlur  # noqa: E402
from .random_hue import RandomHue  # noqa: E402

__all__ += [
    'OverlappingCropPair', 'SelectCropView', 'RandomGaussianBlur', 'RandomHue'
]
from .random_resize import (PaddedRandomCrop,  # noqa: E402
                            RandomLongSideResize, RandomResizedCrop)

__all__ += ['RandomLongSideResize', 'RandomResizedCrop', 'PaddedRandomCrop']
