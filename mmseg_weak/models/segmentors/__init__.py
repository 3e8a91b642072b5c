from .box_conditioned_encoder_decoder import BoxConditionedEncoderDecoder
from .self_correcting_encoder_decoder import SelfCorrectingEncoderDecoder

__all__ = ['BoxConditionedEncoderDecoder', 'SelfCorrectingEncoderDecoder']
from .single_stage_wsss import SingleStageWSSS  # noqa: E402

__all__ += ['SingleStageWSSS']
from .context_aware_consistency import ContextAwareConsistency  # noqa: E402

__all__ += ['ContextAwareConsistency']
