from .box_encoder import BoxEncoder

__all__ = ['BoxEncoder']
from .projector import Projector  # noqa: E402

__all__ += ['Projector']
