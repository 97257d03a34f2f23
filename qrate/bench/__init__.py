"""The built-in benchmark suite (``qrate bench``): each stage of qrate against its physical limit.

Stages (run in this order; see each module's docstring for what is measured and what the limit
is): ``transmittance`` and ``heralding`` (:mod:`qrate.bench.kernels`), ``protocol``,
``end_to_end`` and ``reference_figures`` (:mod:`qrate.bench.engine`), ``memory``
(:mod:`qrate.bench.memory`) and ``dask`` (:mod:`qrate.bench.scaling`). Every stage returns rows
``{stage, name, unit, ..., per_s, limit_per_s, fraction_of_limit}``; :func:`run_suite` adds the
machine description and the targets of issue #7. Everything is seeded; timings are wall-clock
best-of-N on one core unless the row says otherwise.
"""

from __future__ import annotations

from qrate.bench.suite import STAGES, SUITE, format_row, run_suite, targets

__all__ = ["STAGES", "SUITE", "format_row", "run_suite", "targets"]
