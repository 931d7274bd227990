"""Inserting thousands of audited rows with their history, cheaply (the Excel import: issue 3 §9).

``bulk_insert_with_history(model, objs, actor=..., reason=...)`` writes what django-simple-history's
``bulk_create_with_history`` writes — the rows, then one '+' history row per row naming the actor
and the reason (DESIGN.md §7) — for a fraction of its Python cost. Django's bulk path prepares
every value through the field and the SQL compiler (~2 µs a value, 60 values a student, and as
many again for its history row); here each value is prepared once, for the row and its history
row alike:

* text, number, boolean and foreign-key values are taken from the instances as they are (the
  database adapter takes them so); other fields (dates, decimals, JSON …) go through
  ``Field.get_db_prep_save`` as in Django;
* PostgreSQL: ids are drawn from the table's sequence in one query, then the rows and the
  history rows go in by ``COPY``; SQLite: one prepared INSERT per row straight to the driver
  (for the new id), the history rows by ``executemany``; other databases: Django's
  ``bulk_create``, then ``executemany``.

Like ``bulk_create``, no ``save()`` and no signals; objects get their pk and count as saved.
"""

import sqlite3
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

# Field types whose Python values the database adapters take as they are.
_PLAIN_TYPES = frozenset({
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "EmailField", "ForeignKey",
    "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SlugField", "SmallAutoField", "SmallIntegerField", "TextField", "URLField",
})
# simple-history's reason column.
REASON_MAX = 100


def bulk_insert_with_history(model: type[models.Model], objs: Sequence[models.Model], *, actor,
                             reason: str = "") -> None:
    """Insert the new, unsaved ``objs`` of ``model`` and one '+' history row each.

    ``actor``: the user named by the history rows (None for system jobs); ``reason``: their change
    reason (cut to 100 characters, simple-history's column). ``auto_now``/``auto_now_add`` fields
    are set to one timestamp, which is also the history rows' date. Sets each object's pk. Errors
    are Django's (``IntegrityError`` when a constraint refuses a row; nothing of the call stays
    written when the caller's transaction rolls back). Without ``SIMPLE_HISTORY_ENABLED`` no
    history rows are written (as simple-history does).
    """
    if not objs:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
            stored = field.get_db_prep_save(now, connection)
            getters.append(lambda obj, stored=stored: stored)
        else:
            getters.append(_getter(field))
    rows = [[get(obj) for get in getters] for obj in objs]
    table, pk = model._meta.db_table, model._meta.pk
    columns = [f.column for f in fields]
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            pks = _next_ids(table, pk.column, len(rows))
            _copy(table, [pk.column, *columns], ([pk_value, *row] for pk_value, row in zip(pks, rows, strict=True)))
        elif connection.vendor == "sqlite":
            pks = _insert_one_by_one(table, columns, rows)
        else:
            pks = [obj.pk for obj in model.objects.bulk_create(objs)]
    for obj, pk_value in zip(objs, pks, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = connection.alias
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _history(model, fields, rows, pks, actor=actor, reason=reason, when=now)


def _getter(field: models.Field):
    attname, kind = field.attname, field.get_internal_type()
    if kind in _PLAIN_TYPES:
        return lambda obj: getattr(obj, attname)
    if kind == "DateField":
        adapt = connection.ops.adapt_datefield_value

        def date_value(obj):
            value = getattr(obj, attname)
            return adapt(value) if value is None or type(value) is date else field.get_db_prep_save(value, connection)
        return date_value
    return lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)


def _history(model, fields, rows, pks, *, actor, reason: str, when) -> None:
    """The history rows: each tracked value as prepared for the row itself, then date, reason,
    type and user (simple-history's columns)."""
    history = model.history.model
    position = {f.attname: i for i, f in enumerate(fields)}
    pk_name = model._meta.pk.attname
    # None stands for the row's own id (the history table's copy of the primary key).
    picks = [None if f.attname == pk_name else position[f.attname] for f in history.tracked_fields]
    constants = [connection.ops.adapt_datetimefield_value(when), (reason or "")[:REASON_MAX], "+",
                 getattr(actor, "pk", None)]
    columns = [f.column for f in history.tracked_fields] + [
        history._meta.get_field(name).column
        for name in ("history_date", "history_change_reason", "history_type", "history_user")]
    history_rows = ([pk_value if i is None else row[i] for i in picks] + constants
                    for pk_value, row in zip(pks, rows, strict=True))
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            _copy(history._meta.db_table, columns, history_rows)
        else:
            with connection.cursor() as cursor:
                cursor.executemany(_insert_sql(history._meta.db_table, columns, "%s"), list(history_rows))


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _insert_sql(table: str, columns: list[str], placeholder: str) -> str:
    return (f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) "
            f"VALUES ({', '.join([placeholder] * len(columns))})")


def _next_ids(table: str, pk_column: str, count: int) -> list[int]:
    # Drawn from the sequence, so concurrent inserts never collide with the ids given by COPY.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [_quote(table), pk_column, count])
        return [row[0] for row in cursor.fetchall()]


def _copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {_quote(table)} ({', '.join(_quote(c) for c in columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_one_by_one(table: str, columns: list[str], rows) -> list[int]:
    sql, pks = _insert_sql(table, columns, "?"), []
    with connection.cursor() as cursor:
        # The sqlite3 cursor itself: Django's wrapper rewrites the placeholders on every call.
        raw = cursor.cursor
        for row in rows:
            sqlite3.Cursor.execute(raw, sql, row)
            pks.append(raw.lastrowid)
    return pks
