import os.path as osp

import pytest

from mmseg_weak.datasets.splits import make_fraction_splits, write_splits


def test_fraction_splits_are_reproducible_nested_and_disjoint():
    pool = [f'{i:04d}' for i in range(160)]
    a = make_fraction_splits(pool, ['1/16', '1/8', '1/4', 30], seed=1)
    b = make_fraction_splits(list(reversed(pool)), ['1/16', '1/8', '1/4', 30],
                             seed=1)
    assert a == b  # input order does not matter
    assert [len(a[k]['labeled']) for k in ('1-16', '1-8', '1-4', '30')] == \
        [10, 20, 40, 30]
    assert set(a['1-16']['labeled']) < set(a['1-8']['labeled']) < \
        set(a['1-4']['labeled'])
    for split in a.values():
        assert not set(split['labeled']) & set(split['weak'])
        assert sorted(split['labeled'] + split['weak']) == pool
    c = make_fraction_splits(pool, ['1/8'], seed=2)
    assert c['1-8']['labeled'] != a['1-8']['labeled']


@pytest.mark.parametrize('size', ['0/8', '3/2', 0, 161])
def test_bad_sizes(size):
    with pytest.raises(ValueError):
        make_fraction_splits([str(i) for i in range(160)], [size])


def test_write_splits_complement(tmp_path):
    (tmp_path / 'aug.txt').write_text('c\na\nb\nd\n')
    (tmp_path / 'train.txt').write_text('b\n')
    paths = write_splits(str(tmp_path / 'out'),
                         str(tmp_path / 'aug.txt'),
                         sizes=['1/2'],
                         labeled_files=[str(tmp_path / 'train.txt')])
    names = [osp.basename(p) for p in paths]
    assert names == ['labeled_1-2.txt', 'weak_1-2.txt', 'aug_minus_train.txt']
    assert open(paths[2]).read() == 'a\nc\nd\n'
    (tmp_path / 'val.txt').write_text('z\n')
    with pytest.raises(ValueError, match='not in'):
        write_splits(str(tmp_path / 'out'), str(tmp_path / 'aug.txt'),
                     labeled_files=[str(tmp_path / 'val.txt')])
