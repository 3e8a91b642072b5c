"""Literal re-implementations of the authors' computations, shared by the
tests (as oracles) and the benchmarks (as the reference to time)."""
from .dc_loss import reference_dc_loss
from .pamr import oracle_affinity, oracle_pamr

__all__ = ['oracle_affinity', 'oracle_pamr', 'reference_dc_loss']
