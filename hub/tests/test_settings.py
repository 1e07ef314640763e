"""Settings come from the environment and refuse bad values at startup, with the variable named."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "REDIS_URL": "redis://127.0.0.1:1/0", **env})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_debug_is_off_by_default_and_then_a_secret_key_is_required():
    result = load_settings()
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    result = load_settings(DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0 and result.stdout.strip() == "False"


@pytest.mark.parametrize("variable", ["HUB_FRAME_RATE", "HUB_CHAT_RATE"])
def test_a_bad_rate_stops_startup_naming_the_variable(variable):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{variable: "lots"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr and "20/10s" in result.stderr


def test_an_unknown_channel_layer_stops_startup():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_CHANNEL_LAYER="kafka")
    assert result.returncode != 0 and "HUB_CHANNEL_LAYER must be pubsub or core" in result.stderr
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_CHANNEL_LAYER="core").returncode == 0


@pytest.mark.parametrize("heartbeat, ttl", [("25", "25"), ("30", "20"), ("25", "49"), ("0", "60")])
def test_a_presence_ttl_under_twice_the_heartbeat_stops_startup(heartbeat, ttl):
    """Otherwise one late heartbeat would close a socket as idle, or let Redis forget it."""
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_HEARTBEAT=heartbeat, HUB_PRESENCE_TTL=ttl)
    assert result.returncode != 0 and "HUB_PRESENCE_TTL" in result.stderr and "HUB_HEARTBEAT" in result.stderr
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_HEARTBEAT="10", HUB_PRESENCE_TTL="20").returncode == 0


@pytest.mark.parametrize("variable", ["HUB_NOTIFICATION_RETENTION_DAYS", "HUB_DELETED_BODY_RETENTION_DAYS"])
@pytest.mark.parametrize("value", ["ninety", "-1", "1.5", "36501", "", "³"])
def test_a_bad_retention_stops_startup_naming_the_variable(variable, value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr and "whole number of days" in result.stderr


def test_retentions_default_to_90_and_30_days_and_are_read_through_the_apps_settings():
    code = ("import django; django.setup(); from notifications import app_settings as n; from chat import app_settings as c;"
            " print(n.NOTIFICATION_RETENTION_DAYS, c.DELETED_BODY_RETENTION_DAYS)")

    def days(**env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
        clean.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "REDIS_URL": "redis://127.0.0.1:1/0",
                      "DJANGO_SECRET_KEY": "k" * 50, **env})
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert days() == ["90", "30"]
    assert days(HUB_NOTIFICATION_RETENTION_DAYS=" 7 ", HUB_DELETED_BODY_RETENTION_DAYS="0") == ["7", "0"]
