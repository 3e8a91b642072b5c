"""Reproducible labeled / weak split lists for semi- and weakly-supervised
runs.

Two kinds of split, both written next to the official lists:

- *fractions or counts* of a pool (e.g. 1/16, 1/8, 1/4 of VOC trainaug, or
  the 200/400/800 fully labeled images of the self-correction ablation): a
  seeded permutation of the sorted pool; the first ``k`` ids are labeled, the
  rest weak. Smaller labeled sets are nested in larger ones for one seed.
- *complement* of an official list (e.g. VOC ``train`` 1,464 labeled and
  ``aug`` minus ``train`` = 9,118 weak).
"""
import os
import os.path as osp
from fractions import Fraction
from typing import Dict, List, Sequence, Union

import numpy as np

from .voc_annotation import read_split


def split_name(size: Union[str, int, Fraction]) -> str:
    """File-name tag of a split size: ``'1/8'`` → ``'1-8'``,
    ``200`` → ``'200'``."""
    return str(size).replace('/', '-')


def _labeled_count(size: Union[str, int], pool_size: int) -> int:
    if isinstance(size, str) and '/' in size:
        frac = Fraction(size)
        if not 0 < frac <= 1:
            raise ValueError(f'split fraction {size} outside (0, 1]')
        return max(1, int(round(frac * pool_size)))
    count = int(size)
    if not 0 < count <= pool_size:
        raise ValueError(
            f'split size {count} outside [1, {pool_size}] (pool size)')
    return count


def _write(path: str, ids: Sequence[str]) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(''.join(i + '\n' for i in ids))
    os.replace(tmp, path)


def make_fraction_splits(pool: Sequence[str], sizes: Sequence[Union[str, int]],
                         seed: int = 0) -> Dict[str, Dict[str, List[str]]]:
    """Labeled/weak ids for each size (``'1/8'`` fraction or an int count).

    Returns:
        dict: ``{name: {'labeled': [...], 'weak': [...]}}``, ids sorted.
    """
    pool = sorted(pool)
    order = np.random.default_rng(seed).permutation(len(pool))
    out = {}
    for size in sizes:
        k = _labeled_count(size, len(pool))
        labeled = {pool[i] for i in order[:k]}
        out[split_name(size)] = dict(
            labeled=sorted(labeled),
            weak=[i for i in pool if i not in labeled])
    return out


def write_splits(out_dir: str, pool_file: str,
                 sizes: Sequence[Union[str, int]] = (),
                 labeled_files: Sequence[str] = (),
                 seed: int = 0) -> List[str]:
    """Write split lists and return their paths.

    For each size ``s``: ``labeled_{s}.txt`` and ``weak_{s}.txt`` (``s`` with
    ``/`` written as ``-``). For each official labeled list ``X.txt``:
    ``{pool}_minus_X.txt``, the pool ids not in ``X`` (every id of ``X`` must
    be in the pool).

    Args:
        out_dir (str): Output folder (created).
        pool_file (str): The pool list, e.g.
            ``ImageSets/Segmentation/aug.txt``.
        sizes (Sequence): Fractions like ``'1/8'`` or integer counts.
        labeled_files (Sequence[str]): Official labeled lists to complement.
        seed (int): Seed of the permutation.
    """
    pool = read_split(pool_file)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, split in make_fraction_splits(pool, sizes, seed).items():
        for kind in ('labeled', 'weak'):
            path = osp.join(out_dir, f'{kind}_{name}.txt')
            _write(path, split[kind])
            written.append(path)
    pool_set = set(pool)
    pool_tag = osp.splitext(osp.basename(pool_file))[0]
    for labeled_file in labeled_files:
        labeled = read_split(labeled_file)
        missing = [i for i in labeled if i not in pool_set]
        if missing:
            raise ValueError(f'{labeled_file}: {len(missing)} id(s) not in '
                             f'{pool_file}, e.g. {missing[:3]}')
        labeled_set = set(labeled)
        tag = osp.splitext(osp.basename(labeled_file))[0]
        path = osp.join(out_dir, f'{pool_tag}_minus_{tag}.txt')
        _write(path, [i for i in sorted(pool) if i not in labeled_set])
        written.append(path)
    return written
