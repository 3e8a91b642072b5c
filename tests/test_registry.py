"""Every public component is reachable through MMSeg's registries."""
import pytest
from mmseg.registry import DATASETS, TRANSFORMS

import mmseg_weak  # noqa: F401

TRANSFORM_NAMES = [
    'LoadVerifiedAnnotations', 'LoadBoxAnnotations', 'LoadImageLabels',
    'BoxesToSegMap', 'RasterizeBoxMasks', 'BoxAwareRandomCrop',
    'PackWeakSegInputs'
]


@pytest.mark.parametrize('name', TRANSFORM_NAMES)
def test_transforms_registered(name):
    cls = TRANSFORMS.get(name)
    assert cls is not None and cls.__module__.startswith('mmseg_weak.')


def test_datasets_registered():
    assert DATASETS.get('WeakVOCDataset').__module__.startswith('mmseg_weak.')


def test_mmdet_components_reachable_by_scope():
    from mmseg.registry import DATA_SAMPLERS
    assert DATA_SAMPLERS.get('mmdet.MultiSourceSampler') is not None
    assert TRANSFORMS.get('mmdet.MultiBranch') is not None
    assert TRANSFORMS.get('mmdet.LoadEmptyAnnotations') is not None


@pytest.mark.parametrize('registry,names', [
    ('TRANSFORMS', [
        'LoadBoxesFromInstanceMap', 'PAMRRefineMasks', 'LoadCAMs',
        'NormalizeCAMs', 'AddCAMBackground', 'CoVSmoothCAMs',
        'ProportionalPseudoMask', 'ArgmaxPseudoMask', 'OverlappingCropPair',
        'SelectCropView', 'RandomHue', 'RandomGaussianBlur', 'DenseCRFRefine',
        'RandomLongSideResize', 'RandomResizedCrop', 'PaddedRandomCrop'
    ]),
    ('MODELS', [
        'BoxEncoder', 'BoxConditionedEncoderDecoder',
        'SelfCorrectingEncoderDecoder', 'NoSelfCorrectionHead',
        'LinearSelfCorrectionHead', 'ConvSelfCorrectionHead', 'NGWPHead',
        'StochasticGateASPPHead', 'CAMHead', 'SingleStageWSSS',
        'PixelAdaptiveMaskRefinement', 'StochasticGate',
        'BalancedCrossEntropyLoss', 'DenseCRF',
        'PUSLoss', 'DirectionalContrastiveLoss', 'Projector',
        'SoftCrossEntropyLoss', 'DepthwiseSeparableASPPFeatureHead',
        'DeepLabV3PlusPlainHead'
    ]),
    ('PARAM_SCHEDULERS', ['RoundPolyLR']),
    ('HOOKS', [
        'SelfCorrectionAlphaHook', 'SegLossWarmupHook', 'CyclicPseudoMaskHook',
        'IterSyncBuffersHook'
    ]),
    ('DATASETS', ['WeakVOCDataset', 'WeakCityscapesDataset',
                  'SemiCityscapesDataset',
                  'WeakCOCODataset']),
])
def test_every_component_is_registered_in_mmseg(registry, names):
    import mmseg.registry
    reg = getattr(mmseg.registry, registry)
    for name in names:
        cls = reg.get(name)
        assert cls is not None, f'{name} is not in {registry}'
        assert cls.__module__.startswith('mmseg_weak.'), name
