"""docs/http-api.md's shell examples, run as written against a real daphne server: the token command first,
then every curl command in order, each answering the status (and error code) its first line shows."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from hub.testing.servers import ROOT, DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOC = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
EXPECTED = re.compile(r"^# → (\d{3})(?: (\w+))?\n")
# The doc's commands stay as written; curl writes the body to a file and prints only the status.
CURL = """curl() { command curl -o "$BODY_FILE" -w '%{http_code}' "$@"; }\n"""


def shell_blocks():
    return re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.S)


def run(script, env):
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"{script}\n{result.stderr}"
    return result.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_every_example_answers_as_documented(make_user, tmp_path):
    for name in ("alice", "bob"):
        make_user(name)
    Group.objects.create(name="ops").user_set.add(make_user("mia"))
    blocks = shell_blocks()
    token_blocks = [block for block in blocks if "hub_token create" in block]
    curl_blocks = [block for block in blocks if block.lstrip().startswith("# →")]
    assert len(token_blocks) == 1 and len(curl_blocks) >= 10
    assert len(token_blocks) + len(curl_blocks) == len(blocks), "a shell block the test does not run"
    body_file = tmp_path / "body.json"
    with DaphneServer() as server:
        env = {**server.env, "BODY_FILE": str(body_file), "HUB_URL": server.url}
        token_script = token_blocks[0].replace("python manage.py", f"{sys.executable} manage.py")
        env["HUB_TOKEN"] = run(token_script + 'printf %s "$HUB_TOKEN"\n', env)
        assert env["HUB_TOKEN"].startswith("hub_")
        answers = []
        for block in curl_blocks:
            status, code = EXPECTED.match(block).groups()
            got = run(CURL + block, env)
            body = json.loads(body_file.read_text())
            assert got == status, f"{block}\n→ {got} {body}\n{server.output()[-3000:]}"
            if code:
                assert body["error"]["code"] == code, body
            answers.append(body)
    from notifications.models import Announcement, Notification

    assert answers[0]["ids"] and answers[3] == answers[4]  # the retry with the same key answered the first answer
    assert Notification.objects.filter(verb="Deploy finished").count() == 1
    assert Notification.objects.filter(verb="Build 812 failed").get().recipient.username == "mia"
    assert not Notification.objects.filter(verb__in=["Hello", "Deploy failed"]).exists()
    assert Announcement.objects.count() == 2
    assert answers[-1]["openapi"].startswith("3.")
