"""The import's shortcuts give the same results as the code they shortcut (imports.parsing):
the shared-string reader, the re-bound forms with their remembered field results."""

import io
from datetime import date

import pytest
from openpyxl.reader.strings import read_string_table
from stdnum.iso7064 import mod_11_2

from imports.parsing import RowValidator, _read_string_table, validate_file
from imports.template import national_headers
from students.forms import RegionCodes, StudentForm
from tests.imports.helpers import student_rows, xlsx_bytes

ID_NUMBER = "34010220190301123" + mod_11_2.calc_check_digit("34010220190301123")
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="{NS}" count="8" uniqueCount="8">
<si><t>张小明</t></si>
<si><t/></si>
<si><t xml:space="preserve">  前后空格  </t></si>
<si><r><rPr><b/></rPr><t>加粗</t></r><r><t>普通</t></r></si>
<si><t>单田芳</t><rPh sb="0" eb="1"><t>shan</t></rPh><phoneticPr fontId="1"/></si>
<si><t>a_x005F_x000D_b</t></si>
<si><r><t xml:space="preserve"> </t></r></si>
<si><t>340102201903011234</t></si>
</sst>""".encode()


def test_the_shared_string_reader_reads_what_openpyxl_reads():
    ours = _read_string_table(io.BytesIO(SHARED_STRINGS))
    assert ours == list(read_string_table(io.BytesIO(SHARED_STRINGS)))
    assert ours[:4] == ["张小明", "", "  前后空格  ", "加粗普通"] and ours[4] == "单田芳"


@pytest.mark.django_db
class TestRebindingTheForms:
    # (changes to a valid row, valid?): the same form re-bound row after row, good and bad mixed.
    VARIANTS = [
        ({}, True),
        ({"gender": "3"}, False),
        ({"birth_date": "20230230"}, False),
        ({"name": ""}, False),
        ({"ethnicity": "99", "hukou_region_code": "999999"}, False),
        ({"birth_date": "2019-03-01"}, True),
        ({"gender": "3"}, False),  # seen before: refused again, not remembered
        ({"gender": "2"}, False),  # the ID number says male
        ({}, True),
    ]

    def data(self, cast, **changes):
        grade = cast.school_a.grades.order_by("level").first()
        return {"name": "王小明", "gender": "1", "birth_date": "20190301", "id_type": "1",
                "id_number": ID_NUMBER, "ethnicity": "01", "nationality": "CHN", "grade": grade,
                "school_class": grade.classes.first(), "entry_month": "202509", "hukou_region_code": "340102",
                "health": "10", "political_status": "13", "hk_macau_taiwan_overseas": "00", "study_mode": "1",
                "student_source": "1", "left_behind": "0", "disability_type": "0", "inclusive_class": "0",
                **changes}

    def test_each_row_gets_the_verdict_of_a_fresh_student_form(self, cast):
        validator = RowValidator(cast.school_a, {h: i for i, h in enumerate(national_headers())},
                                 today=date(2026, 10, 20))
        regions = RegionCodes.preload()
        for changes, valid in self.VARIANTS:
            data = self.data(cast, **changes)
            fresh = StudentForm(dict(data), school=cast.school_a, regions=regions)
            validator.form.data, validator.form._errors = dict(data), None
            assert validator.form.is_valid() == fresh.is_valid() == valid, (changes, fresh.errors)
            assert validator.form.errors == fresh.errors, changes
            if fresh.is_valid():
                assert {k: v for k, v in validator.form.cleaned_data.items() if k in fresh.cleaned_data} == \
                    fresh.cleaned_data

    def test_a_bad_value_repeated_is_reported_on_every_row(self, cast):
        rows = student_rows(5)
        for row in (rows[1], rows[3]):
            row["姓名"] = "王小1"
        rows[2]["出生日期"] = rows[4]["出生日期"] = "20230230"
        result = validate_file(io.BytesIO(xlsx_bytes(rows)), school=cast.school_a)
        found = {(e.row, e.column) for e in result.errors}
        assert found == {(3, "姓名"), (5, "姓名"), (4, "出生日期"), (6, "出生日期")}


def test_the_collector_pause_nests_and_restores_the_previous_state():
    import gc

    from imports.services import cycle_collection_paused

    assert gc.isenabled()
    with cycle_collection_paused():
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer run still holds it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collection_paused():
        raise RuntimeError("the run failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()
