from .box_encoder import BoxEncoder
from .projector import Projector

__all__ = ['BoxEncoder', 'Projector']
