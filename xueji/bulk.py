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

``update_with_history(model, objs, fields, actor=..., reason=...)`` is the same for a change of
existing rows (a registration batch becoming active): what ``bulk_update_with_history`` writes —
each row's own new values, then one '~' history row each holding the whole new row — without its
UPDATE … CASE (a branch per row, evaluated per row: quadratic) or a Python history object per row:
on PostgreSQL one ``UPDATE … FROM unnest(arrays)`` and one ``INSERT … SELECT`` into the history
table per 5,000 rows; elsewhere one prepared UPDATE executed per row and an ``INSERT … SELECT``
per 900.
"""

import sqlite3
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

# Field types whose Python values the database adapters take as they are.
_PLAIN_TYPES = frozenset({
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "EmailField", "ForeignKey",
    "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SlugField", "SmallAutoField", "SmallIntegerField", "TextField", "URLField",
})
# simple-history's reason column.
REASON_MAX = 100
# Rows per UPDATE of ``update_with_history`` on PostgreSQL, and per history INSERT … SELECT
# elsewhere (SQLite takes at most 32,766 parameters per statement).
PG_CHUNK, CHUNK = 5000, 900


class RowsChanged(Exception):
    """``update_with_history``: some rows no longer matched ``where``; nothing was written."""


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


def update_with_history(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], *, actor,
                        reason: str = "", where: dict | None = None) -> int:
    """Write ``fields`` of the saved ``objs`` of ``model``, each row its own values as set on the
    instance, and one '~' history row each (the whole new row, as simple-history writes on a save)
    naming ``actor`` (None for system jobs) and ``reason`` (cut to 100 characters).

    ``auto_now`` fields (``updated_at``) are set to one timestamp, which is also the history rows'
    date. ``where``: {field name: value} every row must still hold before the write (e.g. the
    status it was read with); when a row does not, raises ``RowsChanged`` and nothing of the call
    stays written (it runs in a savepoint). Returns the number of rows written. Errors are
    Django's (``IntegrityError`` when a constraint refuses a row, again with nothing written).
    Statements: a savepoint pair, then on PostgreSQL two per 5,000 rows, elsewhere one prepared
    UPDATE executed per row and one history INSERT … SELECT per 900 rows.
    """
    if not objs:
        return 0
    now = timezone.now()
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    for field in meta.concrete_fields:
        if getattr(field, "auto_now", False) and field not in columns:
            for obj in objs:
                setattr(obj, field.attname, now)
            columns.append(field)
    getters = [_getter(field) for field in columns]
    rows = [[obj.pk, *(get(obj) for get in getters)] for obj in objs]
    conditions = [(meta.get_field(name), value) for name, value in (where or {}).items()]
    guard = "".join(f" AND t.{_quote(field.column)} = %s" for field, _ in conditions)
    guard_params = [field.get_db_prep_save(value, connection) for field, value in conditions]
    table, pk = _quote(meta.db_table), meta.pk
    with transaction.atomic(), connection.wrap_database_errors, connection.cursor() as cursor:
        written = 0
        if connection.vendor == "postgresql":
            names = ["pk", *(f"c{i}" for i in range(len(columns)))]
            types = [pk.db_type(connection), *(field.db_type(connection) for field in columns)]
            assignments = ", ".join(f"{_quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
            sql = (f"UPDATE {table} AS t SET {assignments} FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) "
                   f"AS v({', '.join(names)}) WHERE t.{_quote(pk.column)} = v.pk{guard}")
            for start in range(0, len(rows), PG_CHUNK):
                chunk = rows[start:start + PG_CHUNK]
                cursor.execute(sql, [list(values) for values in zip(*chunk, strict=True)] + guard_params)
                written += cursor.rowcount
        else:
            assignments = ", ".join(f"{_quote(field.column)} = %s" for field in columns)
            sql = f"UPDATE {table} AS t SET {assignments} WHERE t.{_quote(pk.column)} = %s{guard}"
            cursor.executemany(sql, [[*row[1:], row[0], *guard_params] for row in rows])
            written = cursor.rowcount
        if written != len(rows):
            raise RowsChanged(f"{len(rows) - written} of {len(rows)} rows changed meanwhile")
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            _history_from_rows(cursor, model, [row[0] for row in rows], actor=actor, reason=reason, when=now)
    return written


def _history_from_rows(cursor, model, pks: list, *, actor, reason: str, when) -> None:
    """Copy the rows ``pks`` of ``model`` as they are now into its history table as '~' rows."""
    history = model.history.model
    columns = [f.column for f in history.tracked_fields]
    extra = [history._meta.get_field(name).column
             for name in ("history_date", "history_change_reason", "history_type", "history_user")]
    constants = [connection.ops.adapt_datetimefield_value(when), (reason or "")[:REASON_MAX], "~",
                 getattr(actor, "pk", None)]
    copied = ", ".join(_quote(c) for c in columns)
    source, pk_column = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    insert = (f"INSERT INTO {_quote(history._meta.db_table)} ({copied}, {', '.join(_quote(c) for c in extra)}) "
              f"SELECT {copied}, %s, %s, %s, %s FROM {source} WHERE {pk_column}")
    if connection.vendor == "postgresql":
        for start in range(0, len(pks), PG_CHUNK):
            cursor.execute(f"{insert} = ANY(%s)", [*constants, pks[start:start + PG_CHUNK]])
    else:
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start:start + CHUNK]
            cursor.execute(f"{insert} IN ({', '.join(['%s'] * len(chunk))})", [*constants, *chunk])
