"""Rasterisation of bounding boxes into per-class binary box masks.

Boxes follow mmcv/mmdet's convention: ``(x1, y1, x2, y2)`` in continuous pixel
coordinates. A pixel is inside a box when its centre is: column ``j`` is
covered when ``x1 <= j + 0.5 < x2`` (for integer boxes: columns
``x1 .. x2 - 1``). The numpy and the torch rasterisers share this rule, so
pipeline- and model-side box masks agree.
A box mask has one channel per class; channel ``c`` is 1 inside any box of
class ``c`` and the background channel is 1 where no box lies (the
(C+1)-channel input of the box-encoder in `Ibrahim et al., CVPR 2020
<https://arxiv.org/abs/1911.07450>`_).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch


def _pixel_span(lo: float, hi: float, size: int) -> Tuple[int, int]:
    """Integer ``[start, stop)`` span of pixels whose centres lie in
    ``[lo, hi)``."""
    start = int(np.clip(np.ceil(lo - 0.5), 0, size))
    stop = int(np.clip(np.ceil(hi - 0.5), 0, size))
    return start, stop


def _check_labels(labels: np.ndarray, num_classes: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'box labels must lie in [0, {num_classes}), '
                         f'got {sorted(set(labels.tolist()))}')


def boxes_to_masks(bboxes: np.ndarray,
                   labels: np.ndarray,
                   num_classes: int,
                   shape: Tuple[int, int],
                   background_index: Optional[int] = 0) -> np.ndarray:
    """Rasterise boxes into a ``(num_classes, H, W)`` uint8 box mask.

    Args:
        bboxes (np.ndarray): ``(N, 4)`` boxes ``(x1, y1, x2, y2)``.
        labels (np.ndarray): ``(N,)`` class ids in ``[0, num_classes)``.
        num_classes (int): Number of channels, background included.
        shape (tuple[int, int]): Output ``(H, W)``.
        background_index (int, optional): Channel set to 1 where no box lies.
            ``None`` leaves that channel to the boxes only.

    Returns:
        np.ndarray: Binary masks, ``(num_classes, H, W)``, dtype uint8.
    """
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(bboxes) != len(labels):
        raise ValueError(f'{len(bboxes)} boxes but {len(labels)} labels')
    _check_labels(labels, num_classes)
    h, w = shape
    masks = np.zeros((num_classes, h, w), dtype=np.uint8)
    covered = np.zeros((h, w), dtype=bool)
    for (x1, y1, x2, y2), label in zip(bboxes, labels):
        xs, xe = _pixel_span(x1, x2, w)
        ys, ye = _pixel_span(y1, y2, h)
        masks[label, ys:ye, xs:xe] = 1
        covered[ys:ye, xs:xe] = True
    if background_index is not None:
        masks[background_index] = ~covered
    return masks


def boxes_to_seg_map(bboxes: np.ndarray,
                     labels: np.ndarray,
                     shape: Tuple[int, int],
                     background_index: int = 0) -> np.ndarray:
    """Fill boxes as a label map: the naive "box as mask" weak baseline.

    Larger boxes are painted first so that smaller (usually occluding, more
    specific) boxes stay visible where boxes overlap; ties keep file order.

    Args:
        bboxes (np.ndarray): ``(N, 4)`` boxes ``(x1, y1, x2, y2)``.
        labels (np.ndarray): ``(N,)`` class ids.
        shape (tuple[int, int]): Output ``(H, W)``.
        background_index (int): Label of pixels outside every box.

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    h, w = shape
    seg = np.full((h, w), background_index, dtype=np.uint8)
    areas = (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])
    for i in np.argsort(-areas, kind='stable'):
        x1, y1, x2, y2 = bboxes[i]
        xs, xe = _pixel_span(x1, x2, w)
        ys, ye = _pixel_span(y1, y2, h)
        seg[ys:ye, xs:xe] = labels[i]
    return seg


def batch_boxes_to_masks(bboxes_list: Sequence[torch.Tensor],
                         labels_list: Sequence[torch.Tensor],
                         num_classes: int,
                         shape: Tuple[int, int],
                         scale: float = 1.0,
                         background_index: Optional[int] = 0) -> torch.Tensor:
    """Rasterise a batch of boxes on a (possibly down-scaled) grid, in torch.

    Used on the model side, where boxes come from ``data_sample.gt_instances``
    and the grid is the padded batch (or a feature map ``scale`` times
    smaller). A pixel ``(i, j)`` of the grid is inside a box when its centre
    ``((j + 0.5) / scale, (i + 0.5) / scale)`` in input coordinates is.

    Args:
        bboxes_list (Sequence[Tensor]): Per image ``(N_i, 4)`` boxes in input
            pixel coordinates.
        labels_list (Sequence[Tensor]): Per image ``(N_i,)`` class ids.
        num_classes (int): Number of channels, background included.
        shape (tuple[int, int]): Output grid ``(H, W)``.
        scale (float): Grid size divided by input size (e.g. 1/4 for a
            stride-4 feature map).
        background_index (int, optional): Channel set to 1 outside all boxes.

    Returns:
        Tensor: ``(B, num_classes, H, W)`` float masks in {0, 1}.
    """
    h, w = shape
    device = bboxes_list[0].device if len(bboxes_list) else 'cpu'
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / scale
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / scale
    out = torch.zeros(len(bboxes_list), num_classes, h, w, device=device)
    for b, (bboxes, labels) in enumerate(zip(bboxes_list, labels_list)):
        if bboxes.numel() == 0:
            if background_index is not None:
                out[b, background_index] = 1
            continue
        labels = labels.long()
        _check_labels(labels.cpu().numpy(), num_classes)
        bboxes = bboxes.float()
        inside_y = ((ys[None, :] >= bboxes[:, 1:2]) &
                    (ys[None, :] < bboxes[:, 3:4]))
        inside_x = ((xs[None, :] >= bboxes[:, 0:1]) &
                    (xs[None, :] < bboxes[:, 2:3]))
        inside = (inside_y[:, :, None] & inside_x[:, None, :]).float()  # N,H,W
        out[b].index_reduce_(0, labels, inside, 'amax')
        if background_index is not None:
            out[b, background_index] = 1 - inside.amax(dim=0)
    return out
