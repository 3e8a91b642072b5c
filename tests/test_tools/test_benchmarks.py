"""tools/analysis_tools/benchmark_{step_overhead,relabel,pamr,crf}.py end to
end on tiny settings: every method, twin and inherent part runs, the reported
numbers are consistent with each other and the compared implementations agree
(the timings themselves are not checked: they are taken on a shared
machine)."""
import importlib.util
import json
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool(name):
    if name in sys.modules:  # one module object per tool
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


step = _load_tool('benchmark_step_overhead')
relabel = _load_tool('benchmark_relabel')
pamr = _load_tool('benchmark_pamr')
crf = _load_tool('benchmark_crf')


def test_step_overhead_every_method(tmp_path, capsys):
    import torch
    threads = torch.get_num_threads()
    out = str(tmp_path / 'step.json')
    results = step.main(
        ['--size', '32', '--steps', '1', '--warmup', '0', '--json', out])
    assert torch.get_num_threads() == threads  # restored
    assert set(results) == {'cpu', 'wall'}
    for rows in results.values():
        assert [r['key'] for r in rows] == list(step.METHODS)
        for r in rows:
            assert r['plain_s'] > 0 and r['method_s'] > 0
            assert r['inherent_s'] > 0
            assert r['non_inherent'] == pytest.approx(
                (r['method_s'] - r['plain_s'] - r['inherent_s']) /
                r['plain_s'])
            # the method and its twin see batches of the same shape
            if r['key'] == 'cac':
                assert r['method_input'] == ('sup 4x3x32x32 + view1 4x3x32x32'
                                             ' + view2 4x3x32x32')
            else:
                assert r['method_input'] == '4x3x32x32'
            assert r['twin_input'] == '4x3x32x32'
    printed = capsys.readouterr().out
    assert printed.count('non-inherent overhead') == 2
    for label, *_ in step.METHODS.values():
        assert f'| {label} |' in printed
    with open(out) as f:
        saved = json.load(f)
    assert set(saved['times']['cpu']) >= {
        'plain_deeplabv3plus', 'anc_box', 'anc_all', 'correction',
        'pseudo_gt', 'pus_stat', 'cac_views', 'sswss_twin', 'pus_twin',
        'cac_twin'
    }


def test_relabel_hook_and_test_loop(tmp_path, capsys):
    import torch
    threads = torch.get_num_threads()
    out = str(tmp_path / 'relabel.json')
    rows = relabel.main(
        ['--images', '4', '--repeats', '1', '--warmup', '0', '--json', out])
    assert torch.get_num_threads() == threads
    assert len(rows) == 1
    row = rows[0]
    assert row['nproc'] == 1 and row['images'] == 4
    for clock in ('wall', 'cpu'):
        r = row[clock]
        assert r['hook_ips'] == pytest.approx(4 / r['hook_s'])
        assert r['test_ips'] == pytest.approx(4 / r['test_s'])
        assert r['ratio'] == pytest.approx(r['hook_ips'] / r['test_ips'])
    # both passes ran to the end: the hook published its round with the
    # ground-truth mIoU, the test loop computed its metric
    assert row['info']['hook_mIoU'] is not None
    assert row['info']['test_mIoU'] is not None
    assert 'hook / test' in capsys.readouterr().out
    with open(out) as f:
        assert json.load(f)['rows'][0]['images'] == 4


@pytest.fixture
def workers_in_process(monkeypatch):
    """The scripts' worker processes run in this process instead (seconds
    of imports each): the command line the script built is parsed by the
    script and its worker's result returned, as its JSON line would be."""
    import torch

    import mmseg_weak.testing.profiling as profiling
    threads = torch.get_num_threads()
    scripts = {osp.realpath(m.__file__): m for m in (pamr, crf)}
    commands = []

    def run_here(cmd, threads, what, **env):
        assert cmd[0] == sys.executable
        module = scripts[osp.realpath(cmd[1])]
        commands.append(list(cmd))
        return module.run_worker(module.parse_args(list(cmd[2:])))

    monkeypatch.setattr(profiling, 'measure_in_subprocess', run_here)
    yield commands
    torch.set_num_threads(threads)


def test_pamr_against_the_oracle(workers_in_process, capsys):
    """Each row: a timing worker, then a peak-memory worker of ours and of
    the oracle; ours equals the oracle's refinement."""
    rows = pamr.main([
        '--shapes', '2x3x12x12', '--threads', '1', '--iters', '2',
        '--repeats', '1', '--oracle-repeats', '1', '--oracle', '--memory',
        '--devices', 'cpu'
    ])
    assert [c[c.index('--worker') + 1] for c in workers_in_process] == [
        'time', 'memory-ours', 'memory-oracle'
    ]
    assert len(rows) == 1
    device, shape, threads, res = rows[0]
    assert (device, shape, threads) == ('cpu', '2x3x12x12', 1)
    assert res['ours_s'] > 0 and res['oracle_s'] > 0
    assert res['max_diff'] < 1e-5
    assert res['ours_mib'] >= 0 and res['oracle_mib'] >= 0
    assert '| cpu | 2x3x12x12 | 1 |' in capsys.readouterr().out


def test_crf_against_pydensecrf(workers_in_process, capsys):
    pytest.importorskip('pydensecrf')
    rows = crf.main([
        '--sizes', '3x16x20', '--threads', '1', '--iters', '3', '--repeats',
        '1', '--devices', 'cpu'
    ])
    assert len(workers_in_process) == 1
    assert len(rows) == 1
    size, device, threads, res = rows[0]
    assert (size, device, threads) == ('3x16x20', 'cpu', 1)
    assert res['torch_s'] > 0 and res['pydensecrf_s'] > 0
    assert res['max_diff'] < 1e-4
    assert res['label_agreement'] == 1.0
    assert '| 3x16x20 | cpu | 1 |' in capsys.readouterr().out
