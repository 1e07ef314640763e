"""Stream positions: Room.last_seq and Message.seq, numbered in id order for existing messages.

Positions follow commit order from now on (Room.take_seqs); for rows already stored, id
order is the best order there is.
"""

from django.db import migrations, models

BATCH = 1000


def number_messages(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Message = apps.get_model("chat", "Message")
    for room in Room.objects.all().iterator():
        seq, batch = 0, []
        for message in Message.objects.filter(room=room).order_by("id").only("id").iterator(chunk_size=BATCH):
            seq += 1
            message.seq = seq
            batch.append(message)
            if len(batch) == BATCH:
                Message.objects.bulk_update(batch, ["seq"])
                batch = []
        Message.objects.bulk_update(batch, ["seq"])
        Room.objects.filter(pk=room.pk).update(last_seq=seq)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0005_message_deleted_at"),
    ]

    operations = [
        migrations.AddField(model_name="room", name="last_seq",
                            field=models.BigIntegerField(default=0, editable=False)),
        migrations.AddField(model_name="message", name="seq",
                            field=models.BigIntegerField(editable=False, null=True)),
        migrations.RunPython(number_messages, migrations.RunPython.noop),
        migrations.AlterField(model_name="message", name="seq", field=models.BigIntegerField(editable=False)),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("room", "seq"), name="one_message_per_room_position")),
    ]
