import time

import pytest
from hypothesis import given, strategies as st

from plumbing.clock import SystemClock, VirtualClock, isoformat, parse_instant


def test_system_clock_is_wall_time():
    assert abs(SystemClock().now() - time.time()) < 1


def test_virtual_clock_jumps_fourteen_days_in_no_wall_time():
    clock = VirtualClock()
    before, wall = clock.now(), time.monotonic()
    clock.advance(14 * 86400)
    assert clock.now() - before == pytest.approx(14 * 86400, abs=1)
    assert time.monotonic() - wall < 0.5


def test_virtual_clock_ticks_with_wall_time_unless_frozen():
    clock = VirtualClock(start=1_000_000)
    assert 1_000_000 <= clock.now() < 1_000_010
    clock.freeze()
    frozen = clock.now()
    time.sleep(0.02)
    assert clock.now() == frozen
    clock.advance(5)
    assert clock.now() == frozen + 5
    clock.thaw()
    assert clock.now() >= frozen + 5


def test_set_moves_the_clock_to_an_instant_and_back():
    clock = VirtualClock(frozen=True)
    clock.set(parse_instant("2030-01-01T00:00:00Z"))
    assert isoformat(clock.now()) == "2030-01-01T00:00:00Z"
    clock.set(0)
    assert clock.now() == 0


def test_advance_refuses_to_go_backwards():
    with pytest.raises(ValueError):
        VirtualClock().advance(-1)


@pytest.mark.parametrize("bad", ["yesterday", "2030-01-01T00:00:00", True, None])
def test_parse_instant_refuses_what_is_not_an_instant(bad):
    with pytest.raises(ValueError):
        parse_instant(bad)


@given(st.lists(st.floats(min_value=0, max_value=1e7), max_size=20))
def test_advances_add_up(steps):
    clock = VirtualClock(start=0, frozen=True)
    for seconds in steps:
        clock.advance(seconds)
    assert clock.now() == pytest.approx(sum(steps))
