"""The game's settings: each written here once (allauth's pattern). `from games import app_settings`."""

from django.conf import settings


class AppSettings:
    ROWS = 6
    COLUMNS = 7
    RESULTS_SHOWN = 20
    """Finished games the lobby lists."""
    ACTIVE_MAX = 20
    """Games one player may have going at once: the 21st invitation is refused."""
    SWEEP_SECS = 1.0
    """How often a server process (one at a time) ends games whose clock ran out or whose player is gone."""

    @property
    def CLOCK_SECS(self):
        """HUB_GAME_CLOCK_SECS: each player's thinking time for the whole game; at zero they lose."""
        return settings.HUB_GAME_CLOCK_SECS

    @property
    def GRACE_SECS(self):
        """HUB_GAME_GRACE_SECS: how long a player may be away from their game (no socket joined) before forfeiting."""
        return settings.HUB_GAME_GRACE_SECS

    @property
    def INVITE_RATE(self):
        """HUB_GAME_INVITE_RATE: games one user may start (invitations and quick matches)."""
        return settings.HUB_GAME_INVITE_RATE


app_settings = AppSettings()


def __getattr__(name):
    return getattr(app_settings, name)
