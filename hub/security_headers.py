"""Content-Security-Policy on every response (Django 5.2 has none of its own): HUB_CSP, set once."""

from django.conf import settings


def csp_header(policy):
    """`{"default-src": ["'self'"], ...}` -> "default-src 'self'; ..." (Django 6's SECURE_CSP shape)."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds HUB_CSP's Content-Security-Policy to every response that has none (static files too).

    The policy allows scripts, styles and sockets from the page's own origin only: an injected
    inline script or event handler does not run, a page cannot be framed, forms post only here.
    The templates keep to it (no inline script or style; data for scripts travels in
    <script type="application/json">, which is never run); tests/test_browser_pages.py fails on
    any violation on the main pages.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = csp_header(settings.HUB_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
