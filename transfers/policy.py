"""Province-configurable rules for status changes, with code defaults (DESIGN.md §5, §6).

``policy_for(province_code)`` returns the rules in force for a province: its ``ProvincePolicy``
row when there is one, else ``DEFAULT_POLICY``. Dates are compared on the calendar date in
Asia/Shanghai.

Assumed school calendar (configurable per province): the school year ends on 08-31; the spring
term, a graduating grade's last term, starts on 02-01. The national blackout window for new
transfers is 07-15..08-14 (inclusive). A suspension lasts at most 365 days (one school year).
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Policy:
    """The rules one province applies. Windows are ("MM-DD", "MM-DD") pairs, inclusive; a window
    whose end is before its start wraps over the new year."""

    blackout_windows: tuple[tuple[str, str], ...] = (("07-15", "08-14"),)
    suspension_max_days: int = 365
    spring_term_start: str = "02-01"
    school_year_end: str = "08-31"

    def in_blackout(self, day: date) -> bool:
        """True when ``day`` lies in one of the blackout windows (no new transfers)."""
        return any(_in_window(day, start, end) for start, end in self.blackout_windows)

    def in_last_term(self, day: date) -> bool:
        """True when ``day`` lies in the spring term, i.e. the last term of a graduating grade."""
        return _in_window(day, self.spring_term_start, self.school_year_end)


DEFAULT_POLICY = Policy()


def _md(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


def _in_window(day: date, start: str, end: str) -> bool:
    md = (day.month, day.day)
    lo, hi = _md(start), _md(end)
    if lo <= hi:
        return lo <= md <= hi
    return md >= lo or md <= hi


def policy_for(province_code: str) -> Policy:
    """The policy of the province with the 2-digit code ``province_code`` (one query)."""
    from .models import ProvincePolicy

    row = ProvincePolicy.objects.filter(province_id=f"{province_code}0000").first()
    if row is None:
        return DEFAULT_POLICY
    return Policy(
        blackout_windows=tuple(tuple(w) for w in row.blackout_windows),
        suspension_max_days=row.suspension_max_days,
        spring_term_start=row.spring_term_start,
        school_year_end=row.school_year_end,
    )
