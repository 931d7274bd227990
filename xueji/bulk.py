"""Inserting thousands of audited rows with their history, cheaply (the Excel import: issue 3 §9).

``bulk_insert_with_history(model, objs, actor=..., reason=...)`` writes what django-simple-history's
``bulk_create_with_history`` writes — the rows, then one '+' history row per row naming the actor
and the reason (DESIGN.md §7) — for a fraction of its Python cost. Django's bulk path prepares
every value through the field and the SQL compiler (~2 µs a value, 60 values a student, and as
many again for its history row); here:

* values are read from the instances as they are for text, number, boolean and foreign-key
  fields (the database adapter takes them as they are); other fields (dates, decimals, JSON …)
  go through ``Field.get_db_prep_save`` as in Django;
* PostgreSQL: ids are drawn from the table's sequence in one query, then the rows go in by
  ``COPY``; SQLite: one prepared INSERT per row, straight to the driver (other databases:
  Django's ``bulk_create``);
* history rows are copied from the stored rows by the database: one ``INSERT … SELECT`` per
  900 rows (the tracked columns have the same names in both tables).

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
# Ids per INSERT … SELECT of history rows (SQLite allows 999 parameters a statement).
HISTORY_CHUNK = 900


def bulk_insert_with_history(model: type[models.Model], objs: Sequence[models.Model], *, actor,
                             reason: str = "") -> None:
    """Insert the new, unsaved ``objs`` of ``model`` and one '+' history row each.

    ``actor``: the user named by the history rows (None for system jobs); ``reason``: their change
    reason (at most 100 characters, simple-history's column). ``auto_now``/``auto_now_add`` fields
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
    rows = ([get(obj) for get in getters] for obj in objs)
    if connection.vendor == "postgresql":
        with connection.wrap_database_errors:
            pks = _copy_rows(model, fields, rows, len(objs))
    elif connection.vendor == "sqlite":
        with connection.wrap_database_errors:
            pks = _insert_rows(model, fields, rows)
    else:
        pks = [obj.pk for obj in model.objects.bulk_create(objs)]
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _copy_history(model, pks, actor=actor, reason=reason, when=now)


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


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _copy_rows(model, fields, rows, count: int) -> list[int]:
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [_quote(table), pk, count])
        pks = [row[0] for row in cursor.fetchall()]
        columns = ", ".join(_quote(c) for c in [pk, *(f.column for f in fields)])
        with cursor.cursor.copy(f"COPY {_quote(table)} ({columns}) FROM STDIN") as copy:
            for pk_value, row in zip(pks, rows, strict=False):
                copy.write_row([pk_value, *row])
    return pks


def _insert_rows(model, fields, rows) -> list[int]:
    columns = ", ".join(_quote(f.column) for f in fields)
    sql = f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['?'] * len(fields))})"
    pks = []
    with connection.cursor() as cursor:
        # The sqlite3 cursor itself (Django's wrapper rewrites the SQL's placeholders on every call).
        raw = cursor.cursor
        for row in rows:
            sqlite3.Cursor.execute(raw, sql, row)
            pks.append(raw.lastrowid)
    return pks


def _copy_history(model, pks: list[int], *, actor, reason: str, when) -> None:
    history = model.history.model
    tracked = ", ".join(_quote(f.column) for f in history.tracked_fields)
    extra = ", ".join(_quote(history._meta.get_field(name).column)
                      for name in ("history_date", "history_change_reason", "history_type", "history_user"))
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    constants = [connection.ops.adapt_datetimefield_value(when), (reason or "")[:100], "+", getattr(actor, "pk", None)]
    with connection.cursor() as cursor:
        for start in range(0, len(pks), HISTORY_CHUNK):
            chunk = pks[start:start + HISTORY_CHUNK]
            cursor.execute(
                f"INSERT INTO {_quote(history._meta.db_table)} ({tracked}, {extra}) "
                f"SELECT {tracked}, %s, %s, %s, %s FROM {table} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {pk}",
                [*constants, *chunk])
