from . import decode_heads, losses, necks, segmentors, utils  # noqa: F401
