"""Time parsing and interval arithmetic. Everything is timezone-aware UTC inside."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

__all__ = ["END_OF_TIME", "UTC", "day_end", "day_start", "duration_text", "ensure_utc",
           "format_ts", "is_midnight", "parse_as_of", "parse_ts"]


def is_midnight(t: datetime) -> bool:
    """Whether ``t`` is the start of a day on its own clock (a whole-day boundary)."""
    return t.hour == t.minute == t.second == t.microsecond == 0


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused (ValueError)."""
    if value.tzinfo is UTC:  # the usual case, once per timestamp of every record: as is
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time-zone offset")
    return value.astimezone(UTC)


def day_start(d: date) -> datetime:
    """Midnight UTC at the start of ``d``."""
    return datetime.combine(d, time.min, tzinfo=UTC)


#: The end of time: ``day_end(date.max)``. Exports write 9999-12-31 for "open-ended"
#: (SAP, Workday); such a date ends here instead of overflowing.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)

#: The range ``--as-of`` may take: wide enough for any audit, narrow enough that the
#: rules' day arithmetic (look-backs and validity periods) stays inside the calendar.
AS_OF_MIN_YEAR, AS_OF_MAX_YEAR = 1970, 9000


def day_end(d: date) -> datetime:
    """Midnight UTC at the end of ``d`` (the exclusive end of that day).

    The last representable day (9999-12-31, "open-ended" in many exports) ends at
    :data:`END_OF_TIME`.
    """
    if d >= date.max:
        return END_OF_TIME
    return day_start(d) + timedelta(days=1)


def parse_ts(text: str, *, date_only_ok: bool = True) -> datetime:
    """Parse an ISO 8601 timestamp (or a date) into aware UTC.

    Accepts ``Z``, ``+02:00`` and the Jira form ``+0200``. A date alone means midnight UTC.
    A timestamp without an offset is refused: its meaning would depend on the machine.

    Raises:
        ValueError: the text is not a valid date or timestamp, or has no offset.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty timestamp")
    if len(s) == 10 and date_only_ok:
        return day_start(date.fromisoformat(s))
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        dt = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")
    return ensure_utc(dt)


def parse_as_of(text: str) -> datetime:
    """Parse ``--as-of``: a timestamp with an offset, or a date meaning 00:00 UTC that day.

    Raises:
        ValueError: not a date or timestamp, or outside the years 1970–9000.
    """
    try:
        when = parse_ts(text)
    except OverflowError as exc:
        raise ValueError(str(exc)) from None
    if not AS_OF_MIN_YEAR <= when.year <= AS_OF_MAX_YEAR:
        raise ValueError(f"year {when.year} is outside {AS_OF_MIN_YEAR}–{AS_OF_MAX_YEAR}")
    return when


def format_ts(value: datetime) -> str:
    """Render a timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, seconds precision)."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_text(value: timedelta) -> str:
    """A duration in plain words with units: ``15 min``, ``3 h 30 min``, ``2 days 4 h``.

    Rounded to the minute; up to 48 hours in hours and minutes, beyond in days and hours.
    Never a decimal fraction ("0.2 h").
    """
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} h" + (f" {m} min" if m else "")
    d, rest = divmod(minutes, 24 * 60)
    h = round(rest / 60)
    if h == 24:
        d, h = d + 1, 0
    return f"{d} days" + (f" {h} h" if h else "")
