"""Settings come from the environment and refuse bad values at startup, with the variable named."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


CONSOLE = "django.core.mail.backends.console.EmailBackend"
# Variables the settings read that carry no DJANGO_/HUB_ prefix; the tests choose them.
OWN_VARIABLES = ("EMAIL_BACKEND", "ALLAUTH_TRUSTED_PROXY_COUNT", "DATABASE_URL")


def load_settings(*, show="settings.DEBUG", **env):
    """Start Django in a fresh process with only `env` set; print `show`. A None value leaves a variable out.

    EMAIL_BACKEND is the console backend unless the test says otherwise.
    """
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "HUB_")) and k not in OWN_VARIABLES}
    clean.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "REDIS_URL": "redis://127.0.0.1:1/0",
                  "EMAIL_BACKEND": CONSOLE, **env})
    clean = {k: v for k, v in clean.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; print({show})"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_debug_is_off_by_default_and_then_a_secret_key_is_required():
    result = load_settings()
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    result = load_settings(DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0 and result.stdout.strip() == "False"


@pytest.mark.parametrize("variable", ["HUB_FRAME_RATE", "HUB_CHAT_RATE", "HUB_API_RATE"])
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
                      "DJANGO_SECRET_KEY": "k" * 50, "EMAIL_BACKEND": CONSOLE, **env})
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert days() == ["90", "30"]
    assert days(HUB_NOTIFICATION_RETENTION_DAYS=" 7 ", HUB_DELETED_BODY_RETENTION_DAYS="0") == ["7", "0"]


def test_with_debug_off_the_email_backend_must_be_named():
    """The console backend would write password-reset links (account takeovers) into the logs."""
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, EMAIL_BACKEND=None)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and "EMAIL_BACKEND" in result.stderr
    named = load_settings(DJANGO_SECRET_KEY="k" * 50, show="settings.EMAIL_BACKEND")
    assert named.returncode == 0 and named.stdout.strip() == CONSOLE
    debug = load_settings(DJANGO_DEBUG="1", EMAIL_BACKEND=None, show="settings.EMAIL_BACKEND")
    assert debug.returncode == 0 and debug.stdout.strip() == CONSOLE


HTTPS_SETTINGS = ("(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE,"
                  " settings.CSRF_COOKIE_SECURE)")


@pytest.mark.parametrize("env, expected", [
    ({}, "(True, 31536000, True, True)"),
    ({"DJANGO_SECURE_COOKIES": "0"}, "(False, 0, False, False)"),
    ({"DJANGO_DEBUG": "1"}, "(False, 0, False, False)"),
    ({"DJANGO_HSTS_SECONDS": "3600"}, "(True, 3600, True, True)"),
])
def test_with_debug_off_https_is_required_unless_secure_cookies_is_0(env, expected):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, show=HTTPS_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_the_proxy_ssl_header_and_trusted_proxy_count_come_from_the_environment():
    shown = "(settings.SECURE_PROXY_SSL_HEADER, settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, show=shown).stdout.strip() == "(None, 0)"
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, show=shown, ALLAUTH_TRUSTED_PROXY_COUNT="1",
                           DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto=https")
    assert result.stdout.strip() == "(('HTTP_X_FORWARDED_PROTO', 'https'), 1)", result.stderr
    bad = load_settings(DJANGO_SECRET_KEY="k" * 50, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert bad.returncode != 0 and "DJANGO_SECURE_PROXY_SSL_HEADER must be HEADER=VALUE" in bad.stderr


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "hub.example.com", "https://hub.example.com/",
                                   "null", "ftp://hub.example.com", "https://hub.example.com:99999"])
def test_a_wildcard_or_anything_but_full_origins_in_allowed_origins_stops_startup(value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_ALLOWED_ORIGINS=f"https://ok.example.com,{value}")
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert "HUB_ALLOWED_ORIGINS" in result.stderr
    ok = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_ALLOWED_ORIGINS="https://a.example.com,http://localhost:8000",
                       show="settings.HUB_ALLOWED_ORIGINS")
    assert ok.returncode == 0 and ok.stdout.strip() == "['https://a.example.com', 'http://localhost:8000']"


PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "hub.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://hub.example.com",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
    "ALLAUTH_TRUSTED_PROXY_COUNT": "1",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}


def test_the_deploy_check_passes_with_a_production_environment():
    """README's production environment: `manage.py check --deploy --fail-level WARNING` is clean."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_")) and k not in OWN_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "REDIS_URL": "redis://127.0.0.1:1/0",
                "DATABASE_URL": "postgres://hub@127.0.0.1:1/hub", **PRODUCTION})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # The same check fails on a plain-http setup: the check is not vacuous.
    env["DJANGO_SECURE_COOKIES"] = "0"
    plain = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert plain.returncode != 0 and "security.W008" in plain.stderr + plain.stdout


@pytest.mark.parametrize("env, named", [
    ({"HUB_METRICS_ALLOW": "127.0.0.1,everyone"}, "HUB_METRICS_ALLOW"),
    ({"HUB_METRICS_TOKEN": "short"}, "HUB_METRICS_TOKEN"),
    ({"HUB_LAYER_REDIS_URLS": "redis://127.0.0.1:6380/0,127.0.0.1:6381"}, "HUB_LAYER_REDIS_URLS"),
    ({"HUB_LAYER_REDIS_URLS": "redis://127.0.0.1:6380/0", "HUB_CHANNEL_LAYER": "core"}, "HUB_LAYER_REDIS_URLS"),
    ({"HUB_LAYER_REDIS_URLS": "redis://127.0.0.1:6380/0", "REDIS_SENTINELS": "127.0.0.1:26379",
      "REDIS_SENTINEL_MASTER": "m"}, "HUB_LAYER_REDIS_URLS"),
])
def test_bad_metrics_and_shard_settings_stop_startup(env, named):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_metrics_on_point_prometheus_at_a_directory_of_the_project(tmp_path):
    show = "__import__('os').environ['PROMETHEUS_MULTIPROC_DIR']"
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_METRICS="1", show=show)
    assert result.returncode == 0 and result.stdout.strip() == str(ROOT / "var" / "metrics")
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_METRICS="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m"),
                           show=show)
    assert result.returncode == 0 and result.stdout.strip() == str(tmp_path / "m") and (tmp_path / "m").is_dir()


@pytest.mark.parametrize("env, named", [
    ({"HUB_DOC_UPDATE_RATE": "fast"}, "HUB_DOC_UPDATE_RATE"),
    ({"HUB_DOC_UPDATE_MAX_BYTES": "60000"}, "HUB_DOC_UPDATE_MAX_BYTES"),  # as base64 over HUB_MAX_FRAME
    ({"HUB_DOC_UPDATE_MAX_BYTES": "10"}, "HUB_DOC_UPDATE_MAX_BYTES"),
    ({"HUB_DOC_MAX_BYTES": "1000000"}, "HUB_DOC_MAX_BYTES"),  # as base64 over HUB_MAX_BUFFERED
    ({"HUB_DOC_MAX_BYTES": "1000"}, "HUB_DOC_MAX_BYTES"),  # under one update
    ({"HUB_DOC_COMPACT_EVERY": "1"}, "HUB_DOC_COMPACT_EVERY"),
])
def test_bad_document_limits_stop_startup_naming_the_variable(env, named):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_document_limits_that_fit_together_start():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_MAX_BUFFERED="4194304", HUB_DOC_MAX_BYTES="2000000",
                           HUB_DOC_UPDATE_MAX_BYTES="40000", show="__import__('django.conf').conf.settings.HUB_DOC_MAX_BYTES")
    assert result.returncode == 0 and result.stdout.strip() == "2000000"


@pytest.mark.parametrize("env, named", [
    ({"HUB_GAME_CLOCK_SECS": "5"}, "HUB_GAME_CLOCK_SECS"),
    ({"HUB_GAME_GRACE_SECS": "1"}, "HUB_GAME_GRACE_SECS"),
    ({"HUB_GAME_INVITE_RATE": "many"}, "HUB_GAME_INVITE_RATE"),
])
def test_bad_game_settings_stop_startup_naming_the_variable(env, named):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and named in result.stderr


@pytest.mark.parametrize("variable, value, named", [
    ("HUB_EMAIL_AFTER", "-1", "HUB_EMAIL_AFTER"), ("HUB_EMAIL_AFTER", "604801", "HUB_EMAIL_AFTER"),
    ("HUB_SITE_URL", "hub.example.com", "HUB_SITE_URL"), ("HUB_SITE_URL", "javascript:alert(1)", "HUB_SITE_URL"),
    ("HUB_SITE_URL", "https://hub.example.com/x y", "HUB_SITE_URL")])
def test_bad_email_settings_stop_startup(variable, value, named):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{variable: value})
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_email_settings_defaults_follow_the_allowed_hosts_and_debug():
    show = "settings.HUB_EMAIL_AFTER, settings.HUB_SITE_URL"
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, DJANGO_ALLOWED_HOSTS="hub.example.com,x",
                         show=show).stdout.split() == ["600", "https://hub.example.com"]
    assert load_settings(DJANGO_DEBUG="1", show=show).stdout.split() == ["600", "http://127.0.0.1:8000"]
    assert load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_SITE_URL="https://hub.example.com/", HUB_EMAIL_AFTER="0",
                         show=show).stdout.split() == ["0", "https://hub.example.com"]


@pytest.mark.parametrize("value", ["1023", "2097153", "lots", "-1"])
def test_a_bad_api_body_limit_stops_startup_naming_the_variable(value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_API_MAX_BODY=value)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and "HUB_API_MAX_BODY" in result.stderr


def test_the_api_settings_default_and_are_read_through_the_apps_settings():
    show = "__import__('api.app_settings').app_settings.RATE, __import__('api.app_settings').app_settings.MAX_BODY_BYTES"
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, show=show)
    assert result.returncode == 0 and result.stdout.strip() == "600/1m 262144"
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, HUB_API_RATE="5/10s", HUB_API_MAX_BODY="1024", show=show)
    assert result.returncode == 0 and result.stdout.strip() == "5/10s 1024"


@pytest.mark.parametrize("variable", ["HUB_STREAM_MAX_HZ", "HUB_HEARTBEAT", "DJANGO_CONN_MAX_AGE", "HUB_EMAIL_AFTER"])
def test_a_number_setting_that_is_not_a_number_stops_startup_naming_it(variable):
    """environ's own error was a bare ValueError naming neither the variable nor what it should be."""
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{variable: "lots"})
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert f"{variable} must be a whole number, not 'lots'" in result.stderr
