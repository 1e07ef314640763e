"""Connect Four games: the board, whose turn, the clocks, and how it ended."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from games import app_settings

EMPTY_BOARD = "." * (app_settings.ROWS * app_settings.COLUMNS)
ENDINGS = ("four", "draw", "resign", "time", "forfeit", "abandoned")


class Game(models.Model):
    # players[0] (`first`) moves first; cells hold "." (empty), "0" (first's) or "1" (second's), row by row
    # from the top.
    first = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    board = models.CharField(max_length=app_settings.ROWS * app_settings.COLUMNS, default=EMPTY_BOARD)
    moves = models.PositiveIntegerField(default=0)
    last_column = models.SmallIntegerField(null=True, blank=True)
    # Thinking time left, in milliseconds, as of `turn_started_at` (the player to move is losing it since).
    clock_first_ms = models.PositiveIntegerField()
    clock_second_ms = models.PositiveIntegerField()
    turn_started_at = models.DateTimeField(default=timezone.now)
    winner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    ended = models.CharField(max_length=10, blank=True, choices=[(e, e) for e in ENDINGS])  # "": going on
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ended", "id"])]

    @property
    def topic(self):
        return f"game:{self.pk}"

    @property
    def over(self):
        return bool(self.ended)


class QuickMatch(models.Model):
    """A player waiting to be paired with the next one who asks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
