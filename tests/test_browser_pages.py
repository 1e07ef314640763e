"""The Content-Security-Policy in Chromium: the main pages work under it, injected script does not run.

Any `securitypolicyviolation` event or CSP console error on a page fails the test, so a
template or module that starts relying on inline script or style is caught here.
"""

import pytest
from playwright.sync_api import expect

from tests.browser import BROWSER_PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} in ${e.documentURI}`));
"""
INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__injected = true";
  document.body.append(script);
  return window.__injected === true;
}"""


def watched_page(new_page):
    """A page that records CSP violations (DOM events and console errors) in `page.csp_errors`."""
    page = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    page.csp_errors = []
    page.on("console", lambda message: message.type == "error" and "Content Security Policy" in message.text
            and page.csp_errors.append(message.text))
    return page


def assert_no_violations(page):
    page.wait_for_load_state("load")
    violations = page.evaluate("() => window.__cspViolations")
    assert violations == [] and page.csp_errors == [], (page.url, violations, page.csp_errors)


def test_the_main_pages_run_under_the_policy_and_injected_script_does_not(new_page, live_server_url, make_user,
                                                                          make_room):
    make_user("boss", password=BROWSER_PASSWORD, is_staff=True, is_superuser=True)
    make_room("lounge")
    page = watched_page(new_page)
    for path in ("/accounts/login/", "/accounts/signup/", "/admin/login/"):
        page.goto(live_server_url + path)
        assert_no_violations(page)
    login(page, live_server_url, "boss")  # home, connected over ws:// under connect-src 'self'
    expect(page.locator("#room-list")).to_contain_text("Lounge")
    assert_no_violations(page)
    page.goto(f"{live_server_url}/chat/lounge/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    page.wait_for_function("() => window.hub?.subscriptions.get('room:lounge')?.joined")
    page.get_by_role("textbox", name="Message").fill("under the policy")
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(page.locator("#messages li .body", has_text="under the policy")).to_have_count(1)
    assert_no_violations(page)
    page.goto(f"{live_server_url}/notifications/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    assert_no_violations(page)
    for path in ("/admin/", "/admin/auth/user/", "/admin/auth/user/add/", "/admin/chat/room/"):
        page.goto(live_server_url + path)
        expect(page.locator("#content")).to_be_visible()
        assert_no_violations(page)
    # What an XSS would do: the script is refused, and the browser reports it.
    assert page.evaluate(INJECT_INLINE_SCRIPT) is False
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert "script-src-elem" in page.evaluate("() => window.__cspViolations")[0]
