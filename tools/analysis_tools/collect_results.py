"""Print (and write) a markdown table of test metrics of several runs.

Input: a TSV with one run per line: ``name``, ``description``, ``config``,
``test work dir`` (the ``--work-dir`` given to ``tools/test.py``, which writes
``metrics.json`` there).
"""
import argparse
import json
import os.path as osp
from typing import Dict, List


def read_runs(tsv: str) -> List[Dict]:
    runs = []
    with open(tsv, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip('\n').split('\t')
            if len(fields) != 4:
                raise ValueError(f'{tsv}:{lineno}: expected 4 tab-separated '
                                 f'fields, got {len(fields)}')
            name, what, config, work_dir = fields
            path = osp.join(work_dir, 'metrics.json')
            if not osp.exists(path):
                raise FileNotFoundError(f'{path}: no metrics of run {name!r} '
                                        '(did tools/test.py run?)')
            with open(path, encoding='utf-8') as m:
                metrics = json.load(m)
            runs.append(dict(name=name, what=what, config=config,
                             metrics=metrics))
    return runs


def table(runs: List[Dict]) -> str:
    lines = ['| run | trained with | mIoU | mAcc | aAcc | config |',
             '|---|---|---:|---:|---:|---|']
    for r in runs:
        m = r['metrics']
        lines.append(f"| {r['name']} | {r['what']} | {m['mIoU']:.2f} | "
                     f"{m.get('mAcc', float('nan')):.2f} | "
                     f"{m.get('aAcc', float('nan')):.2f} | `{r['config']}` |")
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', help='TSV: name, description, config, dir')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args()
    text = table(read_runs(args.runs))
    print(text)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
