"""Label maps as palette PNGs (the ``SegmentationClass`` format): one atomic
writer and one checked reader shared by the tools and the cyclic hook."""
import os
import os.path as osp
import tempfile
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = ['voc_palette', 'write_label_png', 'read_label_png']


def voc_palette(num_colors: int = 256) -> List[Tuple[int, int, int]]:
    """Build the standard PASCAL VOC colour map.

    The bits of the label index are spread over the channels from the most
    significant bit downwards: bit ``3k`` goes to red, ``3k + 1`` to green and
    ``3k + 2`` to blue, each at bit position ``7 - k``.

    Args:
        num_colors: Number of palette entries to build.

    Returns:
        List of ``(r, g, b)`` tuples, one per label index.
    """
    palette = []
    for index in range(num_colors):
        rgb = [0, 0, 0]
        code = index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((code >> channel) & 1) << (7 - bit)
            code >>= 3
        palette.append(tuple(rgb))
    return palette


def write_label_png(path: str,
                    label: np.ndarray,
                    palette: Optional[Sequence[Sequence[int]]] = None) -> None:
    """Write a ``uint8`` label map as a palette PNG, atomically.

    The PNG goes to a temporary file in the same folder, which is renamed
    over ``path``: an interrupted write leaves neither a half-written PNG nor
    the temporary file.

    Args:
        path (str): Output file (its folder must exist).
        label (np.ndarray): ``(H, W)`` class ids (0-255).
        palette (Sequence[Sequence[int]], optional): RGB colour per class id
            (e.g. ``mmseg.utils.get_palette('voc')``).
    """
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'{path}: a label map must be 2-D, got shape '
                         f'{label.shape}')
    # an 'L' image becomes 'P' with its palette; without one it stays a
    # grey-level PNG (a 'P' image without a palette would not keep the ids)
    png = Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8),
                          mode='L')
    if palette is not None:
        flat = [int(v) for color in palette for v in color][:768]
        png.putpalette(flat + [0] * (768 - len(flat)))
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(path)),
                               suffix='.tmp.png')
    try:
        with os.fdopen(fd, 'wb') as f:
            png.save(f, format='PNG')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def read_label_png(path: str, what: str = 'label map') -> np.ndarray:
    """A label PNG as an ``(H, W)`` uint8 array of class ids.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the PNG is not single-channel (index / palette / grey).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: {what} not found')
    label = np.asarray(Image.open(path))
    if label.ndim != 2:
        raise ValueError(f'{path}: {what} must be a single-channel (index / '
                         f'palette) PNG, got shape {label.shape}')
    return label
