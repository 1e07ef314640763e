"""An index on LOWER(username) of the user table: hub.users.users_by_username looks names up ignoring case.

Without it every presence query or @mention would scan the whole user table. The user
model is another app's (swappable), so the index is made with SQL both SQLite and
PostgreSQL accept, on whatever table and column the user model has.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations

INDEX = "hub_username_lower"


def create_index(apps, schema_editor):
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    column = user_model._meta.get_field(get_user_model().USERNAME_FIELD).column
    table, column = schema_editor.quote_name(user_model._meta.db_table), schema_editor.quote_name(column)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (LOWER({column}))")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    operations = [migrations.RunPython(create_index, drop_index)]
