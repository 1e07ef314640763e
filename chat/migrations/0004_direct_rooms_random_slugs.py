"""Direct rooms get their pair in `direct_pair` and a random slug instead of "dm-<id>-<id>".

The old slugs told anyone who saw one which two users talk. Notifications that link to a
renamed room (a direct message's "sent you a message") are pointed at the new slug.
"""

import secrets

from django.db import migrations


def new_direct_slug():
    return f"dm-{secrets.token_hex(8)}"


def forwards(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Membership = apps.get_model("chat", "Membership")
    Notification = apps.get_model("notifications", "Notification")
    ContentType = apps.get_model("contenttypes", "ContentType")
    room_type = ContentType.objects.filter(app_label="chat", model="room").first()
    for room in Room.objects.filter(kind="direct", direct_pair__isnull=True):
        user_ids = sorted(Membership.objects.filter(room=room).values_list("user_id", flat=True))
        if len(user_ids) == 2:
            room.direct_pair = f"{user_ids[0]}-{user_ids[1]}"
        old_slug, room.slug = room.slug, new_direct_slug()
        room.save(update_fields=["direct_pair", "slug"])
        if room_type is None:
            continue
        for note in Notification.objects.filter(target_content_type=room_type, target_object_id=str(room.pk)):
            note.url = (note.url or "").replace(f"/chat/{old_slug}/", f"/chat/{room.slug}/") or None
            if isinstance(note.data, dict) and note.data.get("room") == old_slug:
                note.data = {**note.data, "room": room.slug}
            note.save(update_fields=["url", "data"])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_membership_direct_pair_edited_by"),
        ("notifications", "0002_notification_url_validator"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
