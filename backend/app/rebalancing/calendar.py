"""Exchange sessions from a maintained calendar library (``exchange_calendars``; default XNYS).

Holidays and weekends are not sessions; a rebalance due on a closed day moves to the next session. The
library is imported lazily (≈1 s) and each calendar is built once per process.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import warnings
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from app.core.errors import InputError
from app.core.quiet import quiet
from app.domain.rebalancing import Frequency

DEFAULT_CALENDAR = "XNYS"
CALENDAR_START = "2000-01-01"


@lru_cache(maxsize=8)
def exchange_calendar(code: str = DEFAULT_CALENDAR) -> Any:
    """The ``exchange_calendars`` calendar ``code`` (e.g. ``XNYS``), from 2000 to the library's horizon."""
    import exchange_calendars as xcals  # lazy

    try:
        with warnings.catch_warnings():  # pandas deprecation noise from inside the library
            warnings.simplefilter("ignore")
            return xcals.get_calendar(code, start=CALENDAR_START)
    except Exception as exc:  # noqa: BLE001 - the library raises its own types for unknown codes
        raise InputError(f"calendar: unknown exchange calendar {code!r} ({type(exc).__name__})") from None


def _check_range(cal: Any, day: date, code: str) -> None:
    first, last = cal.first_session.date(), cal.last_session.date()
    if not first <= day <= last:
        raise InputError(f"calendar {code}: {day.isoformat()} is outside the known sessions {first}..{last}")


def is_session(day: date, *, calendar: str = DEFAULT_CALENDAR) -> bool:
    """True when the exchange is open on ``day``."""
    cal = exchange_calendar(calendar)
    _check_range(cal, day, calendar)
    with quiet():
        return bool(cal.is_session(day.isoformat()))


def next_session(day: date, *, calendar: str = DEFAULT_CALENDAR, strictly_after: bool = False) -> date:
    """``day`` when it is a session (unless ``strictly_after``), else the first session after it."""
    cal = exchange_calendar(calendar)
    start = day + timedelta(days=1) if strictly_after else day
    _check_range(cal, start, calendar)
    with quiet():
        return cal.date_to_session(start.isoformat(), direction="next").date()


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _stdlib_calendar.monthrange(year, month)[1]))


def scheduled_date(last: date, frequency: Frequency) -> date:
    """The nominal next date after ``last`` (may be a closed day): +1 day, +7 days, +1 month, +3 months."""
    if frequency is Frequency.DAILY:
        return last + timedelta(days=1)
    if frequency is Frequency.WEEKLY:
        return last + timedelta(days=7)
    if frequency is Frequency.MONTHLY:
        return add_months(last, 1)
    if frequency is Frequency.QUARTERLY:
        return add_months(last, 3)
    raise InputError(f"frequency: unknown value {frequency!r}")


def due_session(last: date, frequency: Frequency, *, calendar: str = DEFAULT_CALENDAR) -> date:
    """The session on which the next calendar rebalance after ``last`` is due (closed days roll forward)."""
    return next_session(scheduled_date(last, frequency), calendar=calendar)
