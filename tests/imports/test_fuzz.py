"""No cell value, however odd, makes row validation raise: every problem is a row error."""

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.parsing import RowValidator
from imports.template import national_headers
from tests.imports.helpers import student_rows

HEADERS = national_headers()
CELLS = st.one_of(
    st.none(), st.text(max_size=40), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.dates(min_value=date(1, 1, 1)), st.sampled_from(["#N/A", "=A1", "男", "汉族", "340102000000", "１２", "\x00"]),
)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(HEADERS), CELLS, max_size=20))
def test_odd_cells_give_row_errors_never_exceptions(cast, changes):
    validator = RowValidator(cast.school_a, {h: i for i, h in enumerate(HEADERS)})
    row = student_rows(1)[0] | changes
    valid, errors = validator.validate(2, tuple(row.get(h) for h in HEADERS))
    assert (valid is None) == bool(errors)
    assert all(e.row == 2 and isinstance(e.message, str) for e in errors)
