from .conv_self_correction_head import ConvSelfCorrectionHead
from .linear_self_correction_head import (LinearSelfCorrectionHead,
                                          linear_self_correction)
from .no_self_correction_head import NoSelfCorrectionHead
from .self_correction_head import SelfCorrectionHead, soft_cross_entropy

__all__ = [
    'ConvSelfCorrectionHead', 'LinearSelfCorrectionHead',
    'NoSelfCorrectionHead', 'SelfCorrectionHead', 'linear_self_correction',
    'soft_cross_entropy'
]
from .cam_head import CAMHead  # noqa: E402
from .ngwp_head import (NGWPHead, add_background_channel,  # noqa: E402
                        focal_mask_penalty, ngwp_scores, stack_image_labels)
from .sg_aspp_head import StochasticGateASPPHead  # noqa: E402

__all__ += [
    'CAMHead', 'NGWPHead', 'add_background_channel', 'focal_mask_penalty',
    'ngwp_scores', 'stack_image_labels', 'StochasticGateASPPHead'
]
from .pixel_classifier_head import PixelClassifierHead  # noqa: E402

__all__ += ['PixelClassifierHead']
from .sep_aspp_feature_head import \
    DepthwiseSeparableASPPFeatureHead  # noqa: E402

__all__ += ['DepthwiseSeparableASPPFeatureHead']
