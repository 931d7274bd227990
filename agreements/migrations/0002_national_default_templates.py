"""Ship the national default texts (agreements/defaults.py) as the national AgreementTemplate rows."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    from agreements.defaults import DEFAULT_TEMPLATES

    Template = apps.get_model("agreements", "AgreementTemplate")
    for row in DEFAULT_TEMPLATES:
        Template.objects.get_or_create(kind=row["kind"], region=None, school=None, defaults=row)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
