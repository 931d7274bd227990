"""The benchmark data set: N synthetic students spread over a province's real counties.

Schools are drawn one at a time: a county (weighted, so some counties are bigger than others),
a kind (primary, nine-year, junior, senior; for a million students the mix gave 59 % primary,
29 % junior and 13 % senior, near the national 57/28/15 of 2023), a number of classes per grade, and
classes of 40–50 students, until N students are placed. The last class may be smaller. Students come from
``students.synthetic``. Everything is written in bulk with history rows (reason ``CHANGE_REASON``).
On PostgreSQL the whole load is one transaction: the students' secondary indexes are dropped, the
students go in by COPY, their history rows by one INSERT … SELECT, and the indexes and foreign keys
are built again (the unique index re-checks 一生一籍); other sessions wait on those tables meanwhile.

Generated schools have codes "9" + region code + 3 digits: real 学校标识码 and the demo's codes
(region code + 4 digits) never start with 9, so the two never collide, and the generated data of a
province can be found and dropped again (``dataset_reset``).
"""

import datetime
import decimal
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from schools.models import Grade, Region, School, SchoolClass
from schools.services import GRADE_NAMES
from students.models import NumberKind, Student, StudentStatus
from students.synthetic import IdNumberAllocator, school_year_of, synthetic_student, years_of_schooling

CODE_PREFIX = "9"
CHANGE_REASON = "基准测试数据"
CLASS_SIZE = (40, 50)

# (stage, share of schools, classes per grade (min, max)).
SCHOOL_KINDS = (
    (School.Stage.PRIMARY, 0.55, (1, 6)),
    (School.Stage.NINE_YEAR, 0.08, (1, 4)),
    (School.Stage.JUNIOR, 0.26, (4, 12)),
    (School.Stage.SENIOR, 0.11, (6, 16)),
)
SCHOOL_NAME_SUFFIX = {
    School.Stage.PRIMARY: "小学", School.Stage.NINE_YEAR: "九年一贯制学校",
    School.Stage.JUNIOR: "初级中学", School.Stage.SENIOR: "高级中学",
}
NUMERALS = "一二三四五六七八九十"


class DatasetError(Exception):
    """The data set cannot be generated as asked (message in Chinese, for the command line)."""


@dataclass
class DatasetResult:
    """What one run wrote and how long it took (seconds, wall clock)."""

    schools: int = 0
    grades: int = 0
    classes: int = 0
    students: int = 0
    seconds: float = 0.0
    deleted: int = 0
    reset_seconds: float = 0.0

    @property
    def students_per_second(self) -> float:
        return self.students / self.seconds if self.seconds else 0.0


def generated_schools(province: Region):
    """The schools this generator made in ``province`` (codes starting with CODE_PREFIX)."""
    return School.objects.filter(province_code=province.code[:2], school_code__startswith=CODE_PREFIX)


def dataset_reset(province: Region) -> int:
    """Delete the generated schools of ``province`` with their grades, classes, students and the
    history rows of all of them. Returns the number of students deleted.

    A benchmark tool, not a feature: it bypasses the services and deletes history on purpose.
    Raises django.db.IntegrityError when other data (e.g. a transfer) refers to generated rows.
    """
    schools = generated_schools(province)
    school_ids = list(schools.values_list("pk", flat=True))
    if not school_ids:
        return 0
    with transaction.atomic():
        deleted = Student.objects.filter(school_id__in=school_ids)._raw_delete(connection.alias)
        Student.history.filter(school_id__in=school_ids)._raw_delete(connection.alias)
        for model in (SchoolClass, Grade):
            model.objects.filter(school_id__in=school_ids)._raw_delete(connection.alias)
            model.history.filter(school_id__in=school_ids)._raw_delete(connection.alias)
        School.history.filter(id__in=school_ids)._raw_delete(connection.alias)
        schools._raw_delete(connection.alias)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Dead rows would otherwise be read again by every index build of the next load.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {_quote(Student._meta.db_table)}, {_quote(Student.history.model._meta.db_table)}")
    return deleted


def _units(province: Region) -> list[Region]:
    """Active county-level units of the province, plus active cities that have none (东莞)."""
    regions = list(Region.objects.filter(path__startswith=province.path, is_active=True)
                   .exclude(level=Region.Level.PROVINCE).select_related("parent"))
    with_counties = {r.parent_id for r in regions if r.level == Region.Level.COUNTY}
    return [r for r in regions if r.level == Region.Level.COUNTY or r.code not in with_counties]


class _Planner:
    """Draws schools, grades and classes until the students are placed; keeps the running counts."""

    def __init__(self, rng: random.Random, units: list[Region], students: int):
        self.rng, self.units, self.remaining = rng, units, students
        self.weights = [rng.lognormvariate(0, 0.5) for _ in units]
        self.next_number = dict.fromkeys((u.code for u in units), 1)

    def school(self) -> tuple[School, tuple[int, int]]:
        unit = self.rng.choices(self.units, weights=self.weights)[0]
        stage, _, per_grade = self.rng.choices(SCHOOL_KINDS, weights=[k[1] for k in SCHOOL_KINDS])[0]
        number = self.next_number[unit.code]
        if number > 999:
            raise DatasetError(f"{unit.name} 的生成学校已超过 999 所，请减少学生数")
        self.next_number[unit.code] = number + 1
        city = unit.parent if unit.parent and unit.parent.level == Region.Level.CITY else unit
        authority = city if stage == School.Stage.SENIOR else unit
        code = f"{CODE_PREFIX}{unit.code}{number:03d}"
        ordinal = NUMERALS[number - 1] if number <= len(NUMERALS) else str(number)
        school = School(school_code=code, name=f"{unit.name}第{ordinal}{SCHOOL_NAME_SUFFIX[stage]}", stage=stage,
                        region=unit, authority=authority, path=unit.path + code + "/",
                        province_code=unit.code[:2])
        return school, per_grade

    def class_sizes(self, per_grade: tuple[int, int]) -> list[int]:
        sizes = []
        for _ in range(self.rng.randint(*per_grade)):
            if self.remaining <= 0:
                break
            size = min(self.rng.randint(*CLASS_SIZE), self.remaining)
            self.remaining -= size
            sizes.append(size)
        return sizes


def dataset_generate(*, province_code: str, students: int, seed: int = 1, reset: bool = False,
                     today: datetime.date | None = None, schools_per_chunk: int = 20,
                     progress: Callable[[DatasetResult], None] | None = None) -> DatasetResult:
    """Fill the database with ``students`` synthetic active students in province ``province_code``.

    Deterministic for a ``seed`` on an empty province. Refuses (DatasetError) when the province's
    regions are not loaded, or when generated data exist and ``reset`` is False; with ``reset`` the
    earlier generated data are deleted first (``dataset_reset``). ``progress`` is called after each
    chunk of ``schools_per_chunk`` schools. Returns the counts and the elapsed seconds (the reset
    is timed apart).
    """
    province = Region.objects.filter(code=province_code, level=Region.Level.PROVINCE).first()
    if province is None:
        raise DatasetError(f"未找到省级行政区划 {province_code}：请先运行 python manage.py load_regions")
    result = DatasetResult()
    if generated_schools(province).exists():
        if not reset:
            raise DatasetError(f"{province.name}已有生成的基准数据：加 --reset 先删除再生成")
        started = time.monotonic()
        result.deleted = dataset_reset(province)
        result.reset_seconds = time.monotonic() - started
    started = time.monotonic()
    units = _units(province)
    if not units:
        raise DatasetError(f"{province.name}下没有现行的区县")
    rng = random.Random(seed)
    planner = _Planner(rng, units, students)
    allocator = IdNumberAllocator(Student.objects.filter(id_number__startswith=province.code[:2])
                                  .values_list("id_number", flat=True).iterator(chunk_size=10000))
    context = {"rng": rng, "allocator": allocator, "codes": [u.code for u in units],
               "school_year": school_year_of(today or timezone.localdate())}
    fast = connection.vendor == "postgresql"
    with transaction.atomic():
        dropped = _indexes_drop() if fast else []
        while planner.remaining > 0:
            with transaction.atomic():
                _write_chunk(planner, context, result, schools_per_chunk, fast)
            result.seconds = time.monotonic() - started
            if progress:
                progress(result)
        if fast:
            _history_copy(province)
            _indexes_create(dropped)
    if fast:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_quote(Student._meta.db_table)}, {_quote(Student.history.model._meta.db_table)}")
    result.seconds = time.monotonic() - started
    return result


def _write_chunk(planner: _Planner, context: dict, result: DatasetResult, schools: int, fast: bool) -> None:
    """Plan up to ``schools`` schools, write them, their grades and classes, then their students
    (by COPY without history rows when ``fast``; ``_history_copy`` adds those at the end)."""
    school_rows, grade_rows, class_rows, sizes = [], [], [], []
    for _ in range(schools):
        if planner.remaining <= 0:
            break
        school, per_grade = planner.school()
        school_rows.append(school)
        for stage in school.stages():
            for level in range(1, school.years_of(stage) + 1):
                grade = Grade(school=school, stage=stage, level=level, name=GRADE_NAMES[stage][level - 1])
                grade_rows.append(grade)
                for number, size in enumerate(planner.class_sizes(per_grade), start=1):
                    class_rows.append(SchoolClass(school=school, grade=grade, number=number,
                                                  name=f"{grade.name}({number})班"))
                    sizes.append(size)
    # In order: each bulk insert gives the parents of the next their primary keys (bulk_create
    # copies a saved related object's key into the foreign key column).
    for rows, model in ((school_rows, School), (grade_rows, Grade), (class_rows, SchoolClass)):
        bulk_create_with_history(rows, model, batch_size=2000, default_change_reason=CHANGE_REASON)
    students = [row for school_class, size in zip(class_rows, sizes, strict=True)
                for row in _students(context, school_class, size)]
    if fast:
        _students_copy(students)
    elif students:
        bulk_create_with_history([Student(**row, **STUDENT_CONSTANTS) for row in students], Student,
                                 batch_size=2000, default_change_reason=CHANGE_REASON)
    result.schools += len(school_rows)
    result.grades += len(grade_rows)
    result.classes += len(class_rows)
    result.students += sum(sizes)


# Values every generated student shares; the rest varies per student (_students).
STUDENT_CONSTANTS = {"id_type": "1", "number_kind": NumberKind.G.value, "status": StudentStatus.ACTIVE.value,
                     "nationality": "CHN"}


def _students(context: dict, school_class: SchoolClass, size: int) -> list[dict]:
    """``size`` synthetic students of ``school_class`` as dicts of the per-student column values."""
    school, grade = school_class.school, school_class.grade
    grade_number = years_of_schooling(grade.stage, grade.level, school.junior_years or 3)
    fixed = {"school_id": school.pk, "grade_id": grade.pk, "school_class_id": school_class.pk,
             "entry_month": f"{context['school_year'] - grade.level + 1}09",
             # bulk inserts skip Student.save, which would copy these from the school
             "school_path": school.path, "province_code": school.province_code}
    rows = []
    for _ in range(size):
        person = synthetic_student(context["rng"], allocator=context["allocator"], home_county=school.region_id,
                                   other_counties=context["codes"], grade_number=grade_number,
                                   school_year=context["school_year"])
        rows.append({"name": person.name, "name_pinyin": person.name_pinyin, "name_initials": person.name_initials,
                     "gender": person.gender, "birth_date": person.birth_date, "ethnicity": person.ethnicity,
                     "id_number": person.id_number, "student_number": "G" + person.id_number, **fixed})
    return rows


def _copy_text(value) -> str:
    """``value`` in PostgreSQL's COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.date):  # also datetime
        return value.isoformat()
    if not isinstance(value, str | int | float | decimal.Decimal):
        raise TypeError(f"cannot COPY a {type(value).__name__}")
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _students_copy(rows: list[dict]) -> None:
    """COPY the students in; the per-student values are ``rows``, the other columns their defaults.

    Django's and simple-history's bulk paths cost ~0.3 ms of Python per row; COPY with rows
    formatted here is what brings 1,000,000 students under 10 minutes on two cores (bench/README.md).
    """
    if not rows:
        return
    now = timezone.now()
    varying = list(rows[0])
    fields = [f for f in Student._meta.concrete_fields if not f.primary_key]
    constant_fields = [f for f in fields if f.attname not in varying]
    constants = []
    for field in constant_fields:
        value = now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else (
            STUDENT_CONSTANTS.get(field.attname, field.get_default()))
        constants.append(_copy_text(field.get_db_prep_save(value, connection)))
    suffix = "\t" + "\t".join(constants) + "\n"
    columns = [Student._meta.get_field(name).column for name in varying] + [f.column for f in constant_fields]
    # Generated values hold no tab, newline or backslash, so they need no escaping.
    text = "".join("\t".join(str(value) for value in row.values()) + suffix for row in rows)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {_quote(Student._meta.db_table)} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy:
        copy.write(text)


def _history_copy(province: Region) -> None:
    """One '+' history row per generated student of ``province``, made by the server in one statement."""
    history = Student.history.model
    tracked = ", ".join(_quote(f.column) for f in history.tracked_fields)
    schools = generated_schools(province).values("pk").query
    school_sql, school_params = schools.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_quote(history._meta.db_table)} ({tracked}, history_date, history_change_reason, "
            f"history_type, history_user_id) SELECT {tracked}, %s, %s, '+', NULL "
            f"FROM {_quote(Student._meta.db_table)} WHERE school_id IN ({school_sql})",
            [timezone.now(), CHANGE_REASON, *school_params])


def _indexes_drop() -> list[str]:
    """Drop the secondary indexes and foreign keys of the student and student-history tables;
    return the statements that re-create them (``_indexes_create``).

    Loading a million rows into tables with ~40 indexes on random keys is bound by index I/O, and
    every row fires three foreign-key checks; building each index once at the end and validating
    each foreign key with one query is several times faster. Primary keys and constraint-backed
    indexes stay. All of it happens in the caller's transaction, so a failure leaves the tables as
    they were; meanwhile other sessions wait on these tables.
    """
    tables = [Student._meta.db_table, Student.history.model._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)", [tables])
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ANY(%s) AND c.contype = 'f'", [tables])
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quote(name)}")
        # CREATE INDEX refuses a table with deferred checks pending: run them per statement.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}"
        for table, name, definition in foreign_keys]


def _indexes_create(statements: list[str]) -> None:
    """Re-create what ``_indexes_drop`` removed (the unique index re-checks 一生一籍, each foreign
    key is validated in one pass)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in statements:
            cursor.execute(statement)
