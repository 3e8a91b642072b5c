from .box_encoder import BoxEncoder

__all__ = ['BoxEncoder']
