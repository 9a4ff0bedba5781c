"""Seconds per train-step call of several compiled steps, timed in interleaved rounds.

Interleaving (every runner once per round, the median round counts) keeps a change of
the machine's load from favouring whichever runner happened to be timed during a quiet
spell. Used by ``benchmarks.experiments.update_rule``, ``stabilisers``, ``pggan`` and ``health_cost``.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Sequence


def interleaved_step_seconds(
    runners: dict[str, tuple[Callable, Sequence]], rounds: int, on_round: Callable[[int, dict], None] | None = None
) -> dict[str, float]:
    """Median seconds per call of each ``step`` over its ``batches``, one pass of every runner per round.

    Args:
        runners: name -> (step, batches); each step already traced (its first calls made).
        rounds: number of rounds, >= 1.
        on_round: called after each round with the round index and the seconds per call of that round.

    Returns:
        name -> median over rounds of the seconds per call (the last call's ``g_loss`` is read, so the
        asynchronous work has finished when the clock stops).
    """
    times: dict[str, list[float]] = {name: [] for name in runners}
    for r in range(rounds):
        for name, (step, batches) in runners.items():
            t0 = time.perf_counter()
            for b in batches:
                out = step(b)
            float(out["g_loss"])
            times[name].append((time.perf_counter() - t0) / len(batches))
        if on_round is not None:
            on_round(r, {k: v[-1] for k, v in times.items()})
    return {name: statistics.median(t) for name, t in times.items()}
