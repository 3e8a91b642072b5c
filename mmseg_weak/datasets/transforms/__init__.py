from .box_masks import BoxesToSegMap, RasterizeBoxMasks
from .formatting import PackWeakSegInputs
from .geometric import BoxAwareRandomCrop
from .loading import (LoadBoxAnnotations, LoadImageLabels,
                      LoadVerifiedAnnotations)

__all__ = [
    'BoxesToSegMap', 'RasterizeBoxMasks', 'PackWeakSegInputs',
    'BoxAwareRandomCrop', 'LoadBoxAnnotations', 'LoadImageLabels',
    'LoadVerifiedAnnotations'
]
