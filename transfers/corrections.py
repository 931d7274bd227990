"""Key-data corrections (关键数据变更, DESIGN.md §4): building, checking and applying the payload.

The payload of a correction is ``{field: {"old": value, "new": value}}`` with JSON values
(dates as "YYYY-MM-DD"), for fields in ``students.models.KEY_DATA_FIELDS``.
"""

from datetime import date

from django.core.exceptions import ValidationError

from students import codes
from students.models import KEY_DATA_FIELDS

FIELD_LABELS = {"name": "姓名", "gender": "性别", "birth_date": "出生日期", "id_type": "身份证件类型",
                "id_number": "身份证件号", "ethnicity": "民族"}


def current_value(student, field: str):
    """The student's value of key field ``field`` in payload form (dates as ISO strings)."""
    value = getattr(student, field)
    return value.isoformat() if isinstance(value, date) else value


def build_payload(student, new_values: dict) -> dict:
    """Validate ``new_values`` ({field: new value}; dates as ``date`` or "YYYY-MM-DD") against
    ``student`` and return the payload of the fields that really change.

    The ID number is validated for its (new or current) type with the new or current birth date
    and gender (``students.validators.validate_id_for_type``). Raises ValidationError keyed by field.
    """
    cleaned = {}
    for field, value in new_values.items():
        if field not in KEY_DATA_FIELDS:
            raise ValidationError({"payload": f"{field} 不是关键数据，可直接修改"})
        cleaned[field] = _clean(field, value)
    if "id_number" in cleaned or "id_type" in cleaned:
        from students.validators import validate_id_for_type

        birth = cleaned.get("birth_date", current_value(student, "birth_date"))
        try:
            cleaned["id_number"] = validate_id_for_type(
                cleaned.get("id_type", student.id_type), cleaned.get("id_number", student.id_number),
                birth_date=date.fromisoformat(birth), gender=cleaned.get("gender", student.gender))
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from exc
    payload = {}
    for field, new in cleaned.items():
        old = current_value(student, field)
        if new != old:
            payload[field] = {"old": old, "new": new}
    return payload


def _clean(field: str, value):
    if field == "name":
        text = str(value or "").strip()
        if not text or len(text) > 50:
            raise ValidationError({"name": "姓名不能为空，且不超过50个字"})
        return text
    if field == "birth_date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationError({"birth_date": "出生日期格式应为 YYYY-MM-DD"}) from exc
    choices = {"gender": codes.GENDER_CHOICES, "id_type": codes.ID_TYPE_CHOICES,
               "ethnicity": codes.ETHNICITY_CHOICES}.get(field)
    if choices is not None:
        if str(value) not in dict(choices):
            raise ValidationError({field: f"{FIELD_LABELS[field]}代码无效"})
        return str(value)
    return str(value or "").strip()


def new_values(payload: dict) -> dict:
    """{field: new value} of ``payload`` in model form (the birth date as a ``date``)."""
    return {field: date.fromisoformat(v["new"]) if field == "birth_date" else v["new"]
            for field, v in payload.items()}


def describe(payload: dict) -> str:
    """A one-line Chinese summary ("姓名：张三→张叁；民族：01→02") for history reasons and pages."""
    return "；".join(f"{FIELD_LABELS.get(f, f)}：{v.get('old')}→{v.get('new')}" for f, v in payload.items()
                    if f != "id_number") + ("；身份证件号已变更" if "id_number" in payload else "")
