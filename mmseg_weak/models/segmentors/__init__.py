from .box_conditioned_encoder_decoder import BoxConditionedEncoderDecoder
from .self_correcting_encoder_decoder import SelfCorrectingEncoderDecoder

__all__ = ['BoxConditionedEncoderDecoder', 'SelfCorrectingEncoderDecoder']
