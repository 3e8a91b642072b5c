"""A small generated dataset in Cityscapes' layout (tests and demos).

It reuses the synthetic VOC renderer and relabels its classes as Cityscapes
object classes: aeroplane → car, bicycle → bicycle, bird → person,
boat → bus (all with instance ids) and bottle → pole (no instance ids, as in
Cityscapes); the top half of the background is building, the bottom road.
Files follow MMSeg's converted Cityscapes::

    leftImg8bit/{train,val}/<city>/<city>_000000_<frame>_leftImg8bit.png
    gtFine/{train,val}/<city>/<city>_000000_<frame>_gtFine_labelTrainIds.png
    gtFine/{train,val}/<city>/<city>_000000_<frame>_gtFine_instanceIds.png
"""
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
from PIL import Image

from .synthetic_voc import render_sample

#: synthetic VOC class → (Cityscapes labelId, trainId, has instance ids)
VOC_TO_CITYSCAPES = {
    1: (26, 13, True),  # car
    2: (33, 18, True),  # bicycle
    3: (24, 11, True),  # person
    4: (28, 15, True),  # bus
    5: (17, 5, False),  # pole
}
BUILDING, ROAD = (11, 2), (7, 0)  # (labelId, trainId)
CITIES = ('synthcity', 'gencity')


def _write_sample(root: str, split: str, city: str, frame: int,
                  seed: int, index: int) -> str:
    sample = render_sample(seed, index, 96, 128)
    h, w = sample.label.shape
    top = np.arange(h)[:, None] < h // 2
    train_ids = np.where(top, BUILDING[1], ROAD[1]).astype(np.uint8)
    train_ids = np.broadcast_to(train_ids, (h, w)).copy()
    inst = np.where(top, BUILDING[0], ROAD[0]).astype(np.uint16)
    inst = np.broadcast_to(inst, (h, w)).copy()
    counters: Dict[int, int] = {}
    for k, obj in enumerate(sample.objects, start=1):
        label_id, train_id, has_instances = VOC_TO_CITYSCAPES[obj.label]
        region = sample.instances == k
        train_ids[region] = train_id
        if has_instances:
            counters[label_id] = counters.get(label_id, -1) + 1
            inst[region] = label_id * 1000 + counters[label_id]
        else:
            inst[region] = label_id
    stem = f'{city}_000000_{frame:06d}'
    img_dir = osp.join(root, 'leftImg8bit', split, city)
    gt_dir = osp.join(root, 'gtFine', split, city)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(gt_dir, exist_ok=True)
    Image.fromarray(sample.image).save(
        osp.join(img_dir, stem + '_leftImg8bit.png'))
    Image.fromarray(train_ids).save(
        osp.join(gt_dir, stem + '_gtFine_labelTrainIds.png'))
    cv2.imwrite(osp.join(gt_dir, stem + '_gtFine_instanceIds.png'), inst)
    return f'{city}/{stem}'


def generate_synthetic_cityscapes(out_dir: str, num_train: int = 24,
                                  num_val: int = 8,
                                  seed: int = 0) -> Dict[str, List[str]]:
    """Write the dataset under ``out_dir``; return the ids of each split
    (``train``, ``val``) and write them as ``train.txt`` / ``val.txt``."""
    ids: Dict[str, List[str]] = {'train': [], 'val': []}
    index = 0
    for split, count in (('train', num_train), ('val', num_val)):
        for i in range(count):
            city = CITIES[i % len(CITIES)]
            ids[split].append(
                _write_sample(out_dir, split, city, 19 + i, seed, index))
            index += 1
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as f:
            f.write(''.join(i + '\n' for i in sorted(ids[split])))
    return ids
