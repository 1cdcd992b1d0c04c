"""How fast this machine runs Python right now, so runs on different machines (or on
one machine under other load) can be compared: the best of five timings of a fixed loop,
``sum(range(100))``, in nanoseconds (the figure ``python -m timeit "sum(range(100))"``
prints). Taken at the start of a benchmark, before its servers load the machine."""

from __future__ import annotations

import timeit


def python_loop_ns(repeat: int = 5, number: int = 200_000) -> float:
    timer = timeit.Timer("sum(range(100))")
    best = min(timer.repeat(repeat=repeat, number=number))
    return round(best / number * 1e9, 1)
