"""The soak's memory verdict (``bench.soak.memory_checks``): a pool filling and levelling
off passes, memory that keeps rising or passes the ceiling does not."""

from __future__ import annotations

from bench.soak import memory_checks


def test_a_pool_filling_then_level_passes() -> None:
    # the shape of the 30-minute soak: +190 MiB over the first window, then flat
    mem = [554, 606, 652, 679, 689, 704, 721, 728, 734, 738, 738, 741, 743, 745, 745]
    got = memory_checks([float(m) for m in mem], start=258.0, pool_mib=512, bound_mib=150)
    assert got["memory_growth_mib"] == 191.0
    assert got["memory_within_bound"]


def test_growth_that_goes_on_fails() -> None:
    mem = [500.0 + 25 * i for i in range(16)]  # +25 MiB a window, to the end
    got = memory_checks(mem, start=450.0, pool_mib=512, bound_mib=150)
    assert got["memory_growth_second_half_mib"] == 175.0
    assert not got["memory_within_bound"]


def test_a_window_above_the_ceiling_fails() -> None:
    mem = [500.0, 1200.0, 1200.0, 1200.0]  # flat, but far above start-up + pool + bound
    got = memory_checks(mem, start=400.0, pool_mib=512, bound_mib=150)
    assert got["memory_ceiling_mib"] == 1062.0
    assert not got["memory_within_bound"]
