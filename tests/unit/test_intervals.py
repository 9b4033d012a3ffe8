"""Interval arithmetic: half-open, exact, offset-invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from checker.intervals import Interval, clip, complement, intersect, length, subtract, union


def d(day: int, hour: int = 0, tz: timezone = UTC) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=tz)


WINDOW = Interval(d(1), d(31))


def test_adjacent_intervals_leave_no_gap() -> None:
    assert union([Interval(d(1), d(5)), Interval(d(5), d(9))]) == [Interval(d(1), d(9))]
    assert complement([Interval(d(1), d(5)), Interval(d(5), d(31))], WINDOW) == []


def test_one_day_gap_is_found_exactly() -> None:
    gaps = complement([Interval(d(1), d(5)), Interval(d(6), d(31))], WINDOW)
    assert gaps == [Interval(d(5), d(6))]
    assert gaps[0].duration == timedelta(days=1)


def test_one_microsecond_gap_is_still_a_gap() -> None:
    end = d(5)
    gaps = complement([Interval(d(1), end), Interval(end + timedelta(microseconds=1), d(31))],
                      WINDOW)
    assert gaps == [Interval(end, end + timedelta(microseconds=1))]


def test_gaps_at_both_edges_of_the_window() -> None:
    assert complement([Interval(d(3), d(20))], WINDOW) == [Interval(d(1), d(3)),
                                                           Interval(d(20), d(31))]
    assert complement([], WINDOW) == [WINDOW]


def test_overlapping_and_unsorted_input() -> None:
    got = union([Interval(d(10), d(20)), Interval(d(1), d(12)), Interval(d(25), d(26))])
    assert got == [Interval(d(1), d(20)), Interval(d(25), d(26))]
    assert length(got) == timedelta(days=20)


def test_empty_intervals_are_ignored() -> None:
    assert union([Interval(d(5), d(5)), Interval(d(6), d(4))]) == []


def test_intersect_and_subtract() -> None:
    a = [Interval(d(1), d(10)), Interval(d(15), d(20))]
    b = [Interval(d(5), d(17))]
    assert intersect(a, b) == [Interval(d(5), d(10)), Interval(d(15), d(17))]
    assert subtract(a, b) == [Interval(d(1), d(5)), Interval(d(17), d(20))]
    assert subtract([], b) == []


def test_clip_open_ends() -> None:
    assert clip(None, None, WINDOW) == WINDOW
    assert clip(d(10), None, WINDOW) == Interval(d(10), d(31))
    assert clip(None, d(1), WINDOW) is None
    assert clip(d(31), None, WINDOW) is None


@pytest.mark.parametrize("hours", [-11, -5, 0, 1, 2, 5, 9, 14])
def test_results_do_not_depend_on_the_offset_of_the_input(hours: int) -> None:
    tz = timezone(timedelta(hours=hours))
    a = [Interval(d(1).astimezone(tz), d(5).astimezone(tz)),
         Interval(d(6).astimezone(tz), d(31).astimezone(tz))]
    gaps = complement(a, Interval(d(1).astimezone(tz), d(31).astimezone(tz)))
    assert gaps == [Interval(d(5), d(6))]
    assert all(g.start.tzinfo == UTC for g in gaps)


def test_same_wall_clock_in_different_offsets_is_a_different_instant() -> None:
    cet = timezone(timedelta(hours=1))
    # 00:00+01:00 is 23:00Z the day before: an owner ending then leaves a one-hour gap
    gaps = complement([Interval(d(1), d(5, 0, cet)), Interval(d(5), d(31))], WINDOW)
    assert gaps == [Interval(d(4, 23), d(5))]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        Interval(datetime(2026, 1, 1), d(2))  # naive on purpose


def test_contains_is_half_open() -> None:
    iv = Interval(d(1), d(2))
    assert iv.contains(d(1))
    assert not iv.contains(d(2))
