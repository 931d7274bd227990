"""Default archive checklist lines (学籍档案), national for every province (province_code "")."""

from django.db import migrations

DEFAULTS = [
    # code, name, required, order
    ("collection_form", "学生基本信息采集表（家长签字）", True, 10),
    ("household_register", "户口簿复印件或户籍证明", True, 20),
    ("health_vaccination", "体检表及预防接种证明", True, 30),
    ("transfer_application", "转学申请及联系函", False, 40),
    ("suspension_application", "休学、复学申请及证明", False, 50),
    ("awards", "奖励记录", False, 60),
    ("aid", "资助记录", False, 70),
]


def add_defaults(apps, schema_editor):
    ArchiveItemType = apps.get_model("students", "ArchiveItemType")
    for code, name, required, order in DEFAULTS:
        ArchiveItemType.objects.get_or_create(code=code, province_code="",
                                              defaults={"name": name, "required": required, "order": order})


def remove_defaults(apps, schema_editor):
    ArchiveItemType = apps.get_model("students", "ArchiveItemType")
    ArchiveItemType.objects.filter(province_code="", code__in=[d[0] for d in DEFAULTS], items__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("students", "0002_national_fields_family_problems_archive")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
