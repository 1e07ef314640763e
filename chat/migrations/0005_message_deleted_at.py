"""Message.deleted_at: when a message was deleted (hub_prune blanks its body a while after).

Messages deleted before this column existed get the time their deletion set `edited_at` to
(their creation time if that is missing), so their retention counts from their deletion.
"""

from django.db import migrations, models
from django.db.models.functions import Coalesce


def backfill_deleted_at(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    Message.objects.filter(deleted=True, deleted_at__isnull=True).update(
        deleted_at=Coalesce("edited_at", "created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0004_direct_rooms_random_slugs"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill_deleted_at, migrations.RunPython.noop),
    ]
