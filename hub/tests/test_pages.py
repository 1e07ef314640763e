"""The pages as a hostile network or browser sees them: HTTPS-only with debug off, security headers."""

import http.client
import re
import urllib.parse
import urllib.request

import pytest

from hub.testing.servers import Browserless, DaphneServer

TOO_MANY = "Too many failed login attempts"
MISMATCH = "The username and/or password you specified are not correct"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/healthz", "/static/hub/app.js", "/no-such-page/",
                                  "/admin/login/"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = dict(directive.split(" ", 1) for directive in headers["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"  # no inline script
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    if not path.startswith("/static/"):  # WhiteNoise answers before the clickjacking middleware
        assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_the_admin_login_form_takes_no_password_and_allauth_limits_the_guesses(client, make_user):
    from conftest import PASSWORD

    make_user("boss", is_staff=True, is_superuser=True)
    for _ in range(6):
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong", "next": "/admin/"})
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert client.get("/admin/").status_code == 302, "the admin's own form logged the guesser in"
    # Where it sends them, five wrong passwords lock the account's login for a while.
    for _ in range(5):
        assert MISMATCH in client.post(response["Location"], {"login": "boss", "password": "wrong"}).content.decode()
    assert TOO_MANY in client.post(response["Location"], {"login": "boss", "password": PASSWORD}).content.decode()


@pytest.mark.django_db
def test_staff_reach_the_admin_through_allauth_and_others_are_refused(client, make_user):
    from conftest import PASSWORD

    make_user("boss", is_staff=True)
    response = client.post("/accounts/login/?next=%2Fadmin%2F", {"login": "boss", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.force_login(make_user("pleb"))
    assert client.get("/admin/login/").status_code == 403


def fetch(server, path, headers=None):
    """(status, headers) of one GET on a real server, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        connection.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_with_debug_off_plain_http_is_redirected_and_https_pages_carry_hsts():
    """A production server (debug off, no DJANGO_SECURE_COOKIES=0) behind a TLS proxy."""
    with DaphneServer(args=["--proxy-headers"], DJANGO_SECURE_COOKIES="1",
                      DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto=https") as server:
        status, headers = fetch(server, "/accounts/login/")
        assert status == 301 and headers["Location"] == f"https://127.0.0.1:{server.port}/accounts/login/"
        status, headers = fetch(server, "/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        cookies = headers.get_all("Set-Cookie")
        assert cookies and all("; Secure" in cookie for cookie in cookies), cookies
        # The proxy's health check over plain http is answered, not redirected (start() relied on it too).
        assert fetch(server, "/healthz")[0] == 200


def failed_login(server, forwarded_for, username):
    """A wrong password for `username` from a client the proxy reports as `forwarded_for`; the page shown."""
    client = Browserless(server.url)
    client.opener.addheaders = [("X-Forwarded-For", forwarded_for)]
    _, page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": username, "password": "wrong"}).encode()
    request = urllib.request.Request(server.url + "/accounts/login/", data=data)
    with client.opener.open(request, timeout=10) as response:
        return response.read().decode()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_behind_a_proxy_the_per_ip_login_limit_counts_the_address_the_proxy_saw():
    """An attacker who sends their own X-Forwarded-For (the proxy appends the real address) still
    meets allauth's 10 failed logins a minute per IP; another client behind the same proxy does not."""
    with DaphneServer(args=["--proxy-headers"], ALLAUTH_TRUSTED_PROXY_COUNT="1") as server:
        for attempt in range(10):  # another made-up address each time, another username (the per-key limit)
            page = failed_login(server, f"10.9.8.{attempt}, 203.0.113.7", f"victim{attempt}")
            assert MISMATCH in page, attempt
        assert TOO_MANY in failed_login(server, "10.9.8.77, 203.0.113.7", "victim77")
        assert MISMATCH in failed_login(server, "198.51.100.2", "victim78")
