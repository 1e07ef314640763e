"""Chat's writes: rooms and memberships (chat.services.rooms), messages, read markers and typing
(chat.services.messages). Live pushes go out after commit.

The socket handlers (chat.topics), the views, the admin and other apps all call these, as
`chat.services.<name>`: one way to do each thing. Bad input raises a hub.errors.HubError subclass.
"""

from chat.services.messages import (  # noqa: F401
    body_clean, chat_write_allowed, member_suggestions, mention_notify, message_body_prune, message_delete,
    message_edit, message_notify, message_post, message_send, read_marker_move, room_history, typing_forget,
    typing_relay,
)
from chat.services.rooms import (  # noqa: F401
    CHAT_TOPIC, dm_open, dm_open_limited, lobby_group, member_remove, members_add, membership_ensure, room_create,
    room_create_limited, room_join, room_leave, room_mute, room_name_clean, room_update,
)
