from .box_conditioned_encoder_decoder import BoxConditionedEncoderDecoder
from .context_aware_consistency import ContextAwareConsistency
from .self_correcting_encoder_decoder import SelfCorrectingEncoderDecoder
from .single_stage_wsss import SingleStageWSSS

__all__ = [
    'BoxConditionedEncoderDecoder', 'ContextAwareConsistency',
    'SelfCorrectingEncoderDecoder', 'SingleStageWSSS'
]
