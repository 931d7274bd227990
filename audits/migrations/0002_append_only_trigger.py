"""On PostgreSQL, refuse UPDATE and DELETE on the audit log from any client, not only the ORM."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audits_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audits_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audits_auditevent_no_change ON audits_auditevent;
CREATE TRIGGER audits_auditevent_no_change BEFORE UPDATE OR DELETE ON audits_auditevent
    FOR EACH ROW EXECUTE FUNCTION audits_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audits_auditevent_no_change ON audits_auditevent;
DROP FUNCTION IF EXISTS audits_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
