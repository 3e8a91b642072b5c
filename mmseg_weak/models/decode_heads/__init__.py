from .cam_head import CAMHead
from .conv_self_correction_head import ConvSelfCorrectionHead
from .deeplabv3plus_plain_head import DeepLabV3PlusPlainHead
from .linear_self_correction_head import (LinearSelfCorrectionHead,
                                          linear_self_correction)
from .ngwp_head import (NGWPHead, add_background_channel, focal_mask_penalty,
                        ngwp_scores, stack_image_labels)
from .no_self_correction_head import NoSelfCorrectionHead
from .pixel_classifier_head import PixelClassifierHead
from .self_correction_head import SelfCorrectionHead, soft_cross_entropy
from .sep_aspp_feature_head import DepthwiseSeparableASPPFeatureHead
from .sg_aspp_head import StochasticGateASPPHead

__all__ = [
    'CAMHead', 'ConvSelfCorrectionHead', 'DeepLabV3PlusPlainHead',
    'DepthwiseSeparableASPPFeatureHead',
    'LinearSelfCorrectionHead', 'NGWPHead', 'NoSelfCorrectionHead',
    'PixelClassifierHead', 'SelfCorrectionHead', 'StochasticGateASPPHead',
    'add_background_channel', 'focal_mask_penalty', 'linear_self_correction',
    'ngwp_scores', 'soft_cross_entropy', 'stack_image_labels'
]
