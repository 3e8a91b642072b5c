"""A poly learning-rate schedule restarted at the cyclic rounds' boundaries.

With :class:`~mmseg_weak.engine.hooks.CyclicPseudoMaskHook` (``restart=True``)
every round retrains from the initial weights, so every round needs its own
poly decay. Pseudo-mask Matters writes it as one ``PolyLR`` per round
(``begin=0, end=20000`` and ``begin=20000, end=40000``); ``RoundPolyLR`` is
that list as one scheduler whose round boundaries are given like the hook's
``round_iters`` (absolute iterations or fractions of the schedule's end,
which MMEngine sets to ``train_cfg.max_iters`` when ``end`` is omitted), so
that ``--cfg-options train_cfg.max_iters=N`` moves the rounds of the hook and
of the schedule together.

Why not one ``PolyLR`` over the whole run: MMEngine's ``PolyLR`` is chained
(each step multiplies the current lr by ``(1 - 1 / (T - s))**power`` above
``eta_min``), so after the hook resets the lr to ``initial_lr`` at iteration
``r`` it decays exactly as ``PolyLR(begin=r, end=T)`` would: the LAST round
is right, but every earlier round only reaches
``eta_min + (lr0 - eta_min) * ((T - r) / (T - 1))**power`` at its end
(0.54 lr0 for the paper's 20k + 20k with power 0.9) instead of ``eta_min``
(checked in ``tests/test_engine/test_hooks/test_cyclic_pseudo_mask_hook.py``).
"""
from typing import List, Sequence, Union

from mmengine.optim.scheduler import PolyLR
from mmengine.optim.scheduler.param_scheduler import INF
from mmseg.registry import PARAM_SCHEDULERS

__all__ = ['RoundPolyLR', 'check_round_iters', 'resolve_round_iters']

Number = Union[int, float]


def check_round_iters(round_iters: Union[Number, Sequence[Number]],
                      name: str = 'round_iters') -> List[Number]:
    """Validate a round specification without knowing ``max_iters``.

    Each entry is an ``int >= 1`` (an absolute iteration) or a ``float`` in
    ``(0, 1]`` (a fraction of ``max_iters``); a single number is one round.
    Entries of one kind must increase.

    Returns:
        list: The entries.
    """
    if isinstance(round_iters, (int, float)) and not isinstance(
            round_iters, bool):
        round_iters = [round_iters]
    spec = list(round_iters)
    if not spec:
        raise ValueError(f'{name} must name at least one round (positive '
                         'iterations or fractions of max_iters), got []')
    for value in spec:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f'{name}: {value!r} is neither an iteration '
                            '(int) nor a fraction of max_iters (float)')
        if isinstance(value, int) and value < 1:
            raise ValueError(f'{name} must be positive, got {spec}')
        if isinstance(value, float) and not 0.0 < value <= 1.0:
            raise ValueError(
                f'{name}: the float {value} must be a fraction of max_iters '
                'in (0, 1]; write an absolute iteration as an int')
    for kind in (int, float):
        values = [v for v in spec if isinstance(v, kind)]
        if any(a >= b for a, b in zip(values, values[1:])):
            raise ValueError(f'{name} must be increasing, got {spec}')
    return spec


def resolve_round_iters(round_iters: Sequence[Number], max_iters: int,
                        name: str = 'round_iters',
                        max_name: str = 'train_cfg.max_iters') -> List[int]:
    """Absolute round-end iterations: fractions ``f`` become
    ``round(f * max_iters)``; the result must be increasing and within
    ``[1, max_iters]``.

    Raises:
        ValueError: Naming ``name`` and ``max_name`` when a round ends after
            ``max_iters`` or two rounds coincide.
    """
    spec = check_round_iters(round_iters, name)
    iters = [
        v if isinstance(v, int) else int(round(v * max_iters)) for v in spec
    ]
    if any(i < 1 for i in iters):
        raise ValueError(f'{name}={spec} with {max_name}={max_iters} gives '
                         f'a round ending at iteration {iters}: too short')
    if any(a >= b for a, b in zip(iters, iters[1:])):
        raise ValueError(f'{name}={spec} with {max_name}={max_iters} gives '
                         f'round ends {iters}, which are not increasing')
    late = [i for i in iters if i > max_iters]
    if late:
        raise ValueError(
            f'{name}={spec} ends a round at iteration(s) {late}, after '
            f'{max_name}={max_iters}: that round would never happen. Lower '
            f'{name} (fractions of {max_name} such as [0.5] follow it) or '
            f'raise {max_name}')
    return iters


@PARAM_SCHEDULERS.register_module()
class RoundPolyLR(PolyLR):
    """``PolyLR`` restarted at every round boundary: within each segment
    ``[b_k, b_{k+1})`` of ``[begin, end)`` the lr is exactly that of
    ``PolyLR(eta_min, power, begin=b_k, end=b_{k+1})`` started from the
    initial lr (the first segment from the lr at ``begin``, as ``PolyLR``).

    Iteration-based only. Example (``end`` omitted: ``train_cfg.max_iters``)::

        round_iters = [0.5]
        param_scheduler = [dict(type='RoundPolyLR', round_iters=round_iters,
                                eta_min=1e-4, power=0.9, by_epoch=False)]
        custom_hooks = [dict(type='CyclicPseudoMaskHook',
                             round_iters=round_iters, ...)]

    Args:
        round_iters (int | float | Sequence): Round ends, as the hook's
            ``round_iters`` (ints: iterations; floats in (0, 1]: fractions of
            ``end``). Boundaries at or after ``end`` are ignored.
        eta_min (float): Lr at the end of each round. Defaults to 0.
        power (float): Poly power. Defaults to 1.0.
        begin (int): First iteration. Defaults to 0.
        end (int): Iteration after the last one; the runner sets
            ``train_cfg.max_iters`` when omitted.
    """

    def __init__(self,
                 optimizer,
                 round_iters: Union[Number, Sequence[Number]],
                 eta_min: float = 0.,
                 power: float = 1.0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = False,
                 verbose: bool = False) -> None:
        if by_epoch:
            raise ValueError('RoundPolyLR is iteration-based (by_epoch=False)')
        if end == INF:
            raise ValueError('RoundPolyLR needs a finite end (omit it in a '
                             'runner config: train_cfg.max_iters)')
        spec = check_round_iters(round_iters, 'RoundPolyLR.round_iters')
        iters = [v if isinstance(v, int) else int(round(v * end))
                 for v in spec]
        #: iterations where a new poly segment starts
        self.restarts = sorted({i for i in iters if begin < i < end})
        super().__init__(
            optimizer,
            eta_min=eta_min,
            power=power,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=False,
            verbose=verbose)

    def _segment(self, step: int):
        bounds = [self.begin] + self.restarts + [self.end]
        for start, stop in zip(bounds, bounds[1:]):
            if start <= step < stop:
                return start, stop
        return bounds[-2], bounds[-1]

    def _get_value(self):
        step = self.begin + self.last_step
        start, stop = self._segment(step)
        offset = step - start
        if offset == 0:
            if step == self.begin:  # as PolyLR: keep the current lr
                return [
                    group[self.param_name]
                    for group in self.optimizer.param_groups
                ]
            return list(self.base_values)  # a new round: the initial lr
        total = stop - start - 1
        return [(group[self.param_name] - self.eta_min) *
                (1 - 1 / (total - offset + 1))**self.power + self.eta_min
                for group in self.optimizer.param_groups]
