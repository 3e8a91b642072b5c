from . import decode_heads, losses, necks, segmentors, utils

__all__ = ['decode_heads', 'losses', 'necks', 'segmentors', 'utils']
