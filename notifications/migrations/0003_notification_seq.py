"""Stream positions: NotificationStream per user and Notification.seq, numbered in id order for existing rows.

Positions follow commit order from now on (notifications.models.take_seqs); for rows already
stored, id order is the best order there is.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 1000


def number_notifications(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    NotificationStream = apps.get_model("notifications", "NotificationStream")
    last = {}
    batch = []
    for row in Notification.objects.order_by("recipient_id", "id").only("id", "recipient_id").iterator(chunk_size=BATCH):
        last[row.recipient_id] = row.seq = last.get(row.recipient_id, 0) + 1
        batch.append(row)
        if len(batch) == BATCH:
            Notification.objects.bulk_update(batch, ["seq"])
            batch = []
    Notification.objects.bulk_update(batch, ["seq"])
    NotificationStream.objects.bulk_create(
        [NotificationStream(user_id=uid, last_seq=seq) for uid, seq in last.items()], batch_size=BATCH)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0002_notification_url_validator"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationStream",
            fields=[
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                              related_name="+", serialize=False, to=settings.AUTH_USER_MODEL)),
                ("last_seq", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(model_name="notification", name="seq",
                            field=models.BigIntegerField(editable=False, null=True)),
        migrations.RunPython(number_notifications, migrations.RunPython.noop),
        migrations.AlterField(model_name="notification", name="seq", field=models.BigIntegerField(editable=False)),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(fields=("recipient", "seq"), name="one_notification_per_position")),
    ]
