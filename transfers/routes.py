"""The one place where approval routes live (DESIGN.md §5, issue 4).

``route_for(change)`` returns the ordered (unit, role) pairs a change must pass, where a unit is a
``School`` or a ``Region`` and a role is a ``StepRole`` value. Within a unit a registrar submits
and an approver decides: the receiving school's registrar submitting the transfer *is* its
registrar step, so the route starts with that school's approver; every other unit on a transfer
route gets a registrar step then an approver step.

Transfers (the receiving school starts them):
  * same bureau (same county): receiving school → sending school → the bureau;
  * same province: receiving school → receiving bureau → sending school → sending bureau;
  * another province: receiving school → receiving county → receiving province → sending school
    → sending county → sending province.
"The bureau" is the school's ``authority`` (a county for compulsory schools, often a city for
senior high schools, the province for 省直属 schools). A school's county is its authority when
that is a county, else the county-level region the school sits in (仙桃 is county-level directly
under 湖北), else — a school of a city without counties (东莞) or a city school — its authority.
A unit that would follow itself (a 省直属 school's county is its province) appears once.

Every other kind, and registration: the school's approver → the school's authority (approver).
A change a bureau starts itself goes to that bureau's approver.
"""

from schools.models import Region, School
from xueji.scope import path_codes

from .models import ChangeKind, StatusChange, StepRole

Unit = School | Region


def route_for(change: StatusChange) -> list[tuple[Unit, str]]:
    """The ordered (unit, role) pairs of ``change``'s route. Reads the regions above the schools
    involved (one query per school for a cross-province transfer)."""
    if change.kind == ChangeKind.TRANSFER:
        sending = change.from_school or change.student.school
        return transfer_route(receiving=change.target_school, sending=sending)
    if change.school_id:
        return [(change.school, StepRole.APPROVER), (change.school.authority, StepRole.APPROVER)]
    return [(change.region, StepRole.APPROVER)]


def transfer_route(*, receiving: School, sending: School) -> list[tuple[Unit, str]]:
    """Route of a transfer from ``sending`` to ``receiving`` (see the module docstring)."""
    if receiving.authority_id == sending.authority_id:
        others = [sending, sending.authority]
    elif receiving.province_code == sending.province_code:
        others = [receiving.authority, sending, sending.authority]
    else:
        others = [county_of(receiving), province_of(receiving), sending, county_of(sending), province_of(sending)]
    route: list[tuple[Unit, str]] = [(receiving, StepRole.APPROVER)]
    previous = receiving
    for unit in others:
        if _same_unit(unit, previous):
            continue
        route += [(unit, StepRole.REGISTRAR), (unit, StepRole.APPROVER)]
        previous = unit
    return route


def _same_unit(a: Unit, b: Unit) -> bool:
    return type(a) is type(b) and a.pk == b.pk


def _regions_above(school: School) -> list[Region]:
    """The regions on the school's region path, from the province down."""
    codes = path_codes(school.region.path)
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def county_of(school: School) -> Region:
    """The county bureau of ``school``: its authority when that is a county, else the county-level
    region it sits in, else its authority (a city without counties, or a city/province school)."""
    if school.authority.level == Region.Level.COUNTY:
        return school.authority
    counties = [r for r in _regions_above(school) if r.level == Region.Level.COUNTY]
    return counties[-1] if counties else school.authority


def province_of(school: School) -> Region:
    """The province-level region above ``school`` (the first code of its path)."""
    return Region.objects.get(code=path_codes(school.region.path)[0])
