"""Template tags other apps use to show status changes.

``{% load transfers_tags %}{% student_changes_panel student %}`` on the student's page renders
templates/transfers/student_changes.html: the student's changes with their routes, the open
business if any, and links to start a change for users holding ``edit_students`` on the student.
Needs ``request`` in the context (the request context processor). Three or four queries.
"""

from django import template

from xueji.access import has_unit_perm

from ..models import OPEN_STATUSES, ChangeKind
from ..rules import kinds_available
from ..selectors import student_changes

register = template.Library()


@register.inclusion_tag("transfers/student_changes.html", takes_context=True)
def student_changes_panel(context, student):
    """Context for the panel: the student's changes (newest first, steps prefetched), the open one,
    the kinds that fit the student's status and stage, and whether the user may start them."""
    changes = student_changes(student)
    user = context["request"].user
    return {
        "student": student,
        "changes": changes,
        "open_change": next((c for c in changes if c.status in OPEN_STATUSES and c.student_id), None),
        "kinds": [(k, ChangeKind(k).label) for k in kinds_available(student)],
        "can_start": has_unit_perm(user, "edit_students", student),
        "request": context["request"],
    }
