from .box_masks import BoxesToSegMap, RasterizeBoxMasks
from .formatting import PackWeakSegInputs
from .geometric import BoxAwareRandomCrop
from .instance_boxes import LoadBoxesFromInstanceMap
from .loading import (LoadBoxAnnotations, LoadImageLabels,
                      LoadVerifiedAnnotations)
from .pamr_transform import PAMRRefineMasks

__all__ = [
    'BoxesToSegMap', 'RasterizeBoxMasks', 'PackWeakSegInputs',
    'BoxAwareRandomCrop', 'LoadBoxesFromInstanceMap', 'LoadBoxAnnotations',
    'LoadImageLabels', 'LoadVerifiedAnnotations', 'PAMRRefineMasks'
]
