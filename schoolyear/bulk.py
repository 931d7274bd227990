"""Set-based moves of student records that still write one history row per record.

``bulk_update_with_history`` (django-simple-history) needs every moved record as a complete Python
object — 60 columns per student — and builds an UPDATE … CASE per batch: fine for a class, far too
slow for a province's promotion (1,000,000 records). ``move_with_history`` does the same work in
SQL: one UPDATE per group of records and one ``INSERT … SELECT`` that copies the updated rows into
the history table with the acting user, the reason and the time, in the caller's transaction. The
history rows are exactly what simple-history would have written for a save ("~" rows holding the
new values), so the history pages, ``diff_against`` and the audit browser see them like any other.
"""

from django.db import connection
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from students.models import Student

# SQLite refuses more than 32,766 parameters in one statement (older builds 999); PostgreSQL
# handles large IN lists, but chunks keep each statement's plan simple.
CHUNK = 900
HISTORY_FIELDS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user")


def _history_columns(model) -> list[str]:
    history = model.history.model
    return [f.column for f in history._meta.concrete_fields if f.name not in HISTORY_FIELDS]


def insert_history_rows(model, pks: list[int], *, actor, reason: str, when=None, history_type: str = "~") -> int:
    """Copy the current rows ``pks`` of ``model`` into its simple-history table as ``history_type``
    rows naming ``actor`` (a User or None) and ``reason`` (≤ 100 characters, simple-history's
    column). One ``INSERT … SELECT`` per ``CHUNK`` keys. Returns how many rows were written."""
    if not pks:
        return 0
    qn = connection.ops.quote_name
    columns = _history_columns(model)
    cols = ", ".join(qn(c) for c in columns)
    target = qn(model.history.model._meta.db_table)
    source = qn(model._meta.db_table)
    pk_column = qn(model._meta.pk.column)
    when = connection.ops.adapt_datetimefield_value(when or timezone.now())
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start:start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {target} ({cols}, {qn('history_date')}, {qn('history_change_reason')}, "
                f"{qn('history_type')}, {qn('history_user_id')}) "
                f"SELECT {cols}, %s, %s, %s, %s FROM {source} WHERE {pk_column} IN ({marks})",
                [when, reason[:100], history_type, actor.pk if actor is not None else None, *chunk],
            )
            written += cursor.rowcount
    return written


def move_with_history(pks: list[int], *, grade_id: int, class_map: dict[int, int], actor, reason: str,
                      when=None) -> int:
    """Move the students ``pks`` into grade ``grade_id`` and each into the class ``class_map`` gives
    for its current class ({old class id: new class id}), and write their history rows.

    Every record in ``pks`` must have a current class that is a key of ``class_map`` (the caller
    selected them so). Two statements per ``CHUNK`` students; ``updated_at`` becomes ``when``.
    Returns the number of students moved. Runs in the caller's transaction.
    """
    if not pks:
        return 0
    when = when or timezone.now()
    new_class = Case(*[When(school_class_id=old, then=Value(new)) for old, new in class_map.items()],
                     output_field=IntegerField())
    moved = 0
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start:start + CHUNK]
        # The history rows are written right below, in the same transaction (see module docstring).
        moved += Student.objects.filter(pk__in=chunk).update(grade_id=grade_id, school_class_id=new_class,
                                                             updated_at=when)
        insert_history_rows(Student, chunk, actor=actor, reason=reason, when=when)
    return moved
