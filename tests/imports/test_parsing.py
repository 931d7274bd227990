"""imports.parsing: reading and validating a file without writing anything."""

import io

import pytest

from imports.parsing import validate_file
from tests.imports.helpers import student_rows, xlsx_bytes


@pytest.mark.django_db
def test_good_rows_validate(cast):
    result = validate_file(io.BytesIO(xlsx_bytes(student_rows(5))), school=cast.school_a)
    assert result.errors == [] and result.file_errors == []
    assert len(result.rows) == 5 and result.ok


@pytest.mark.django_db
def test_second(cast):
    result = validate_file(io.BytesIO(xlsx_bytes(student_rows(5))), school=cast.school_a)
    assert result.ok
    assert {r.student["grade"].level for r in result.rows} == {1}
