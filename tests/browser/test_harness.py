"""The browser harness itself: what a live_server test starts from."""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython

from .conftest import MIGRATION_DATA

# RunPython operations that write no rows, so a flush does not undo them.
NOT_DATA = {
    ("audits.migrations.0002_append_only_trigger", "forwards"),  # a PostgreSQL trigger
    # Recomputes the pinyin of existing students; an empty table has nothing to put back.
    ("students.migrations.0008_recompute_pinyin_of_names_with_separators", "recompute"),
}


def _project_apps() -> set[str]:
    base = Path(settings.BASE_DIR).resolve()
    return {config.label for config in apps.get_app_configs()
            if Path(config.path).resolve().is_relative_to(base) and ".venv" not in Path(config.path).parts}


def test_every_data_migration_of_the_project_is_put_back_after_a_flush():
    ours = _project_apps()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {(type(migration).__module__, operation.code.__name__)
             for (app, _), migration in loader.disk_migrations.items() if app in ours
             for operation in migration.operations if isinstance(operation, RunPython)}
    assert found - NOT_DATA == set(MIGRATION_DATA)
