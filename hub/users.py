"""The USER object of the protocol."""


def display_name(user):
    return (user.get_full_name() or "").strip() or user.username


def user_dict(user):
    """PROTOCOL.md USER: {"id", "username", "display_name"}."""
    return {"id": user.pk, "username": user.username, "display_name": display_name(user)}
