"""Is a service open now, and until when: weekly opening slots with one-off exceptions, bank holidays
and temporary closures, in Europe/London time.

The rules, in order:

1. A service whose ``status`` is ``temporarily closed`` is closed; the date it reopens is its
   ``x_closed_until`` field, else the first ISO date in its ``alert``.
2. An *exception* is an HSDS schedule without ``byday`` whose ``valid_from`` (or ``dtstart``) names
   one date: with ``opens_at``/``closes_at`` the service opens those hours that day instead of its
   weekly slots; without them it is closed all that day.
3. On an England and Wales bank holiday a service is closed, unless it opens on all seven days of the
   week (crisis lines, shelters: they keep their hours) or an exception for the day says otherwise.
4. Otherwise the weekly slots (``index.weekly_slots``, honouring each schedule's ``valid_from`` and
   ``valid_to``) apply. Slots that meet (20:00-24:00 then 00:00-08:00) run on as one opening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wholeplace.directory.index import DAYS, minutes, weekly_slots

LONDON = ZoneInfo("Europe/London")
LOOK_AHEAD_DAYS = 8
# England and Wales bank holidays (gov.uk/bank-holidays) for the years the directory is used in.
BANK_HOLIDAYS = frozenset(date.fromisoformat(d) for d in (
    "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26",
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
))
BANK_HOLIDAY_YEARS = frozenset(d.year for d in BANK_HOLIDAYS)
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True)
class OpenState:
    """Open or closed now (None: no opening times given), and a phrase saying until when."""

    open: bool | None
    label: str
    why: str = ""  # "bank holiday", "temporarily closed", "exception" when one of those decided it


def open_state(service: dict[str, Any], now: datetime) -> OpenState:
    """Whether ``service`` (assembled HSDS JSON) is open at ``now`` and until when."""
    local = now.astimezone(LONDON).replace(tzinfo=None)
    if service.get("status") == "temporarily closed":
        until = closed_until(service)
        return OpenState(False, f"Temporarily closed until {_day_text(until)}" if until else "Temporarily closed",
                         "temporarily closed")
    if not weekly_slots(service) and not exceptions(service):
        return OpenState(None, "Opening times not given")
    spans = _spans(service, local.date() - timedelta(days=1), LOOK_AHEAD_DAYS + 1)
    current = next((s for s in spans if s[0] <= local < s[1]), None)
    if current is not None:
        if current[1] - local > timedelta(days=LOOK_AHEAD_DAYS - 1):
            return OpenState(True, "Open 24 hours")
        return OpenState(True, f"Open until {_until_text(current[1], local)}")
    upcoming = next((s for s in spans if s[0] > local), None)
    why = _day_reason(service, local.date())
    prefix = {"bank holiday": "Closed today (bank holiday)", "exception": "Closed today"}.get(why, "Closed")
    if upcoming is None:
        return OpenState(False, f"{prefix}: no opening times in the next week", why)
    return OpenState(False, f"{prefix}: opens {_opens_text(upcoming[0], local)}", why)


def closed_until(service: dict[str, Any]) -> date | None:
    text = service.get("x_closed_until") or ""
    found = _ISO_DATE.search(str(text)) or _ISO_DATE.search(str(service.get("alert") or ""))
    try:
        return date.fromisoformat(found[1]) if found else None
    except ValueError:
        return None


def exceptions(service: dict[str, Any]) -> dict[date, list[tuple[int, int]]]:
    """One-off dates: date -> opening slots that day in minutes (empty: closed all day)."""
    found: dict[date, list[tuple[int, int]]] = {}
    for schedule in _schedules(service):
        when = _one_date(schedule)
        if when is None:
            continue
        opens, closes = minutes(schedule.get("opens_at")), minutes(schedule.get("closes_at"))
        slots = found.setdefault(when, [])
        if opens is not None and closes is not None:
            slots.append((opens, closes))
    return found


def is_bank_holiday(day: date) -> bool:
    return day in BANK_HOLIDAYS


def opens_every_day(service: dict[str, Any]) -> bool:
    return {slot["day"] for slot in weekly_slots(service)} == set(DAYS)


def day_slots(service: dict[str, Any], day: date) -> list[tuple[int, int]]:
    """The opening slots (minutes after midnight) that apply on ``day``, by the rules above."""
    special = exceptions(service)
    if day in special:
        return sorted(special[day])
    if is_bank_holiday(day) and not opens_every_day(service):
        return []
    text = day.isoformat()
    return sorted((s["opens"], s["closes"]) for s in weekly_slots(service)
                  if s["day"] == DAYS[day.weekday()] and (s["valid_from"] or "") <= text
                  and (s["valid_to"] is None or s["valid_to"] >= text))


def _spans(service: dict[str, Any], first: date, days: int) -> list[tuple[datetime, datetime]]:
    """Opening spans as local datetimes over ``days`` days from ``first``, meeting spans joined."""
    raw: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day)
        raw += [(midnight + timedelta(minutes=o), midnight + timedelta(minutes=c)) for o, c in day_slots(service, day)
                if c > o]
    joined: list[tuple[datetime, datetime]] = []
    for start, end in sorted(raw):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _day_reason(service: dict[str, Any], day: date) -> str:
    if day in exceptions(service):
        return "exception"
    if is_bank_holiday(day) and not opens_every_day(service):
        return "bank holiday"
    return ""


def _schedules(service: dict[str, Any]) -> list[dict[str, Any]]:
    schedules = list(service.get("schedules", []))
    for at in service.get("service_at_locations", []):
        schedules += at.get("schedules", [])
    return schedules


def _one_date(schedule: dict[str, Any]) -> date | None:
    if schedule.get("byday"):
        return None
    start = str(schedule.get("valid_from") or schedule.get("dtstart") or "")[:10]
    end = str(schedule.get("valid_to") or start)[:10]
    if not start or start != end:
        return None
    try:
        return date.fromisoformat(start)
    except ValueError:
        return None


def _until_text(moment: datetime, now: datetime) -> str:
    days, clock = (moment.date() - now.date()).days, f"{moment:%H:%M}"
    if clock == "00:00" and days == 1:
        return "midnight"
    return clock if days == 0 else f"{clock} tomorrow" if days == 1 else f"{moment:%A} {clock}"


def _opens_text(moment: datetime, now: datetime) -> str:
    days, clock = (moment.date() - now.date()).days, f"{moment:%H:%M}"
    return f"at {clock}" if days == 0 else f"tomorrow at {clock}" if days == 1 else f"{moment:%A} at {clock}"


def _day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
