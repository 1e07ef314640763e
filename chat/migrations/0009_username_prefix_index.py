"""PostgreSQL: an index for LOWER(username) LIKE 'prefix%', the `members` lookup of @name completion.

hub's LOWER(username) index serves equality (mentions, presence queries) but not a prefix
LIKE under a linguistic collation; `text_pattern_ops` compares by code point, which LIKE
needs, so the lookup reads the matching users instead of filtering the whole user table.
SQLite cannot use an expression index for LIKE: there the lookup starts from the room's
memberships. The user model is another app's (swappable), so the SQL names whatever table
and column it has, as hub's migration does.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations

INDEX = "chat_username_lower_prefix"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    column = user_model._meta.get_field(get_user_model().USERNAME_FIELD).column
    table, column = schema_editor.quote_name(user_model._meta.db_table), schema_editor.quote_name(column)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (LOWER({column}) text_pattern_ops)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0008_membership_mute"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [migrations.RunPython(create_index, drop_index)]
