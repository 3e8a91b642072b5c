from . import decode_heads, necks, segmentors  # noqa: F401

from . import losses, utils  # noqa: F401,E402
