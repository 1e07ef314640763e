"""What chat's templates need from its settings: the limits its inputs enforce before the server does."""

from chat import app_settings
from hub import app_settings as hub_settings


def template_context(request):
    """Variables for chat's templates: the `maxlength` of the composer and the lobby's dialogs.

    The registry's context hook for the lobby slot, and part of the room page's context.
    """
    return {
        "body_max_length": app_settings.BODY_MAX_LENGTH,
        "room_name_max_length": app_settings.ROOM_NAME_MAX_LENGTH,
        "username_max_length": hub_settings.USERNAME_MAX_LENGTH,
    }
