"""Recompute the pinyin of names with a middle dot or full stop (买买提·艾力).

students.pinyin now reads the Han first character of such a name alone, as it always did for other
names, so that a name search can bound its results by pinyin range (students.pinyin.pinyin_range).
Only the derived search columns change, never the name, so no history rows are written.
"""

from django.db import migrations
from django.db.models import Q

# students.pinyin._NAME_PARTS and the full-width forms NFKC folds into them.
SEPARATORS = "\u00b7\u2022\u30fb\u2027\u25cf\u2219\u22c5.\uff0e\uff65"


def recompute(apps, schema_editor):
    from students.pinyin import name_initials, name_pinyin

    Student = apps.get_model("students", "Student")
    with_separator = Q(pk__in=[])
    for separator in SEPARATORS:
        with_separator |= Q(name__contains=separator)
    changed = []
    for student in Student.objects.filter(with_separator).only("id", "name", "name_pinyin", "name_initials").iterator():
        pinyin, initials = name_pinyin(student.name)[:200], name_initials(student.name)[:50]
        if (pinyin, initials) != (student.name_pinyin, student.name_initials):
            student.name_pinyin, student.name_initials = pinyin, initials
            changed.append(student)
    Student.objects.bulk_update(changed, ["name_pinyin", "name_initials"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("students", "0007_list_index_path_pinyin")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
