from . import decode_heads, necks, segmentors  # noqa: F401
