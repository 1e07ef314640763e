"""hub.ui: registrations checked when made and listed in INSTALLED_APPS order; the hub_ui tags."""

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

from hub import ui


def locmem_templates(templates):
    """TEMPLATES with only the given in-memory templates (name -> source)."""
    loaders = [("django.template.loaders.locmem.Loader", templates)]
    return [{"BACKEND": "django.template.backends.django.DjangoTemplates", "OPTIONS": {"loaders": loaders}}]


def render(source, **context):
    return Template("{% load hub_ui %}" + source).render(Context(context))


@pytest.fixture
def registry(monkeypatch):
    """An empty registry in place of the real one (the template tags read hub.ui.registry)."""
    fresh = ui.Registry()
    monkeypatch.setattr(ui, "registry", fresh)
    return fresh


def test_the_apps_plug_their_ui_in_installed_apps_order():
    assert [app.app_label for app in ui.registry.registered()] == ["presence", "notifications", "chat", "live",
                                                                    "collab", "games"]
    assert ui.registry.modules() == [
        "presence/sidebar.js", "notifications/notifications.js", "notifications/banners.js",
        "chat/lobby.js", "chat/room.js", "live/table.js", "collab/collab.js",
        "games/games.js",
    ]
    assert ui.registry.styles() == ["presence/presence.css", "notifications/notifications.css", "chat/chat.css",
                                    "live/live.css", "collab/collab.css",
                                    "games/games.css"]
    assert [template for _, template in ui.registry.slot("header")] == ["notifications/_bell.html",
                                                                        "collab/_header_link.html",
                                                                        "games/_header_link.html"]
    assert [template for _, template in ui.registry.slot("home")] == ["chat/_lobby.html"]


def test_the_order_is_installed_apps_not_the_order_of_registration(registry):
    registry.register("chat", modules=["chat/room.js"])
    registry.register("presence", modules=["presence/sidebar.js"])
    assert registry.modules() == ["presence/sidebar.js", "chat/room.js"]


@pytest.mark.parametrize("kwargs, message", [
    ({"slots": {"footer": "presence/_sidebar.html"}}, "no slot 'footer'; the slots are header, banner,"),
    ({"slots": {"sidebar": "presence/nope.html"}}, "slot 'sidebar': no template 'presence/nope.html'"),
    ({"modules": ["presence/nope.js"]}, "module 'presence/nope.js' is not a static file"),
    ({"styles": ["presence/nope.css"]}, "stylesheet 'presence/nope.css' is not a static file"),
    ({"modules": ["presence/presence.css"]}, "module 'presence/presence.css' does not end in .js"),
    ({"context": {"limit": 1}}, "context must be a function of the request"),
])
def test_a_bad_registration_fails_at_once_naming_the_app_and_the_problem(registry, kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(f"hub.ui.register('presence'): {message}")):
        registry.register("presence", **kwargs)
    assert registry.registered() == []


def test_a_slot_template_with_a_syntax_error_fails_at_registration(registry, settings):
    settings.TEMPLATES = locmem_templates({"broken.html": "{% if %}"})
    with pytest.raises(ImproperlyConfigured, match=re.escape("slot 'banner': template 'broken.html': ")):
        registry.register("presence", slots={"banner": "broken.html"})


def test_only_an_installed_app_registers_and_only_once(registry):
    with pytest.raises(ImproperlyConfigured, match="no installed app has the label 'blog'"):
        registry.register("blog")
    registry.register("presence", styles=["presence/presence.css"])
    registry.register("presence", styles=["presence/presence.css"])  # the same again changes nothing
    with pytest.raises(ImproperlyConfigured, match="'presence' already registered its UI"):
        registry.register("presence", styles=[])
    assert registry.styles() == ["presence/presence.css"]


def test_a_slot_renders_each_apps_template_with_its_own_context_hook(registry, settings):
    settings.TEMPLATES = locmem_templates({
        "hello.html": "<p>{{ greeting }}, {{ user }}</p>",
        "plain.html": "<p>{{ greeting|default:'no greeting' }}</p>",
    })
    registry.register("chat", slots={"sidebar": "plain.html"})
    registry.register("presence", slots={"sidebar": "hello.html"},
                      context=lambda request: {"greeting": f"hello from {request.path}"})
    html = render('{% hub_slot "sidebar" %}', request=RequestFactory().get("/here/"), user="<ann>")
    # presence before chat (INSTALLED_APPS); the hook's variables reach only presence's template;
    # the page's own context reaches both, escaped as usual.
    assert html == "<p>hello from /here/, &lt;ann&gt;</p><p>no greeting</p>"
    assert render('{% hub_slot "home" %}') == ""  # nothing registered there


def test_an_unknown_slot_name_fails_when_the_template_is_compiled():
    with pytest.raises(TemplateSyntaxError, match="one quoted slot name, one of: header, banner,"):
        Template('{% load hub_ui %}{% hub_slot "footer" %}')
    with pytest.raises(TemplateSyntaxError):
        Template("{% load hub_ui %}{% hub_slot header %}")


def test_styles_and_modules_are_linked_and_listed_for_app_js(registry):
    registry.register("presence", modules=["presence/sidebar.js"], styles=["presence/presence.css"])
    html = render("{% hub_styles %}{% hub_modules %}")
    assert '<link rel="stylesheet" href="/static/presence/presence.css">' in html
    assert '<link rel="modulepreload" href="/static/presence/sidebar.js">' in html
    listing = re.search(r'<script id="hub-modules" type="application/json">(.*?)</script>', html).group(1)
    assert json.loads(listing) == ["/static/presence/sidebar.js"]


@pytest.mark.django_db
def test_the_page_names_no_app_but_shows_every_registered_part(client, make_user, settings):
    for path in ("templates/base.html", "templates/home.html", "static/hub/app.js"):
        source = (settings.BASE_DIR / path).read_text().lower()
        assert not re.search(r"\b(chat|notifications|presence)\b", source), path
    client.force_login(make_user("ann"))
    page = client.get("/").content.decode()
    for marker in ('id="bell"', 'id="announcements"', 'id="presence-list"', 'id="room-list"', 'id="toasts"',
                   'href="/static/chat/chat.css"', '"/static/chat/room.js"'):
        assert marker in page
    assert page.index('id="presence-list"') > page.index('id="main"')  # the sidebar slot follows the content
