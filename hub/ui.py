"""The UI registry: apps plug their templates, stylesheets and browser modules into the page.

Each app calls `register(...)` in `AppConfig.ready()`, beside its `hub.topics.register` calls;
`templates/base.html` and `home.html` render what is registered through the `hub_ui` template
tags, and `static/hub/app.js` imports the listed modules, so neither names an app (the topic
registry's split, for the page). hub imports no app. Every registration is checked when it is
made, so a typo stops the process at startup with a clear message instead of breaking a page.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template

# Where an app's templates can appear on the page (all of them only for signed-in users).
SLOTS = {
    "header": "the header's actions, before the connection label",
    "banner": "under the header, across the page",
    "sidebar": "beside the page's content",
    "home": "the home page's content",
    "body_end": "the end of <body>: overlays and live regions",
}


@dataclass(frozen=True)
class AppUI:
    """One app's registration: see `register`."""

    app_label: str
    modules: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    slots: Mapping[str, str] = field(default_factory=dict)
    context: Callable | None = None

    def template_context(self, request):
        """The extra variables this app's slot templates get (its context hook's dict)."""
        return dict(self.context(request)) if self.context else {}


class Registry:
    """The registered apps, listed in INSTALLED_APPS order whatever order they registered in."""

    def __init__(self):
        self._apps = {}

    def register(self, app_label, *, modules=(), styles=(), slots=None, context=None):
        """Plug an installed app's UI in; raises ImproperlyConfigured for anything that would not load.

        modules: static paths of ES modules (`"chat/room.js"`), each exporting `init(hub)`, which
        `app.js` calls on every page with the tab's socket. styles: static paths of stylesheets,
        linked on every page. slots: slot name (see `SLOTS`) -> template rendered there.
        context: `context(request) -> dict`, extra variables for the app's slot templates.
        """
        ui = AppUI(app_label, tuple(modules), tuple(styles), dict(slots or {}), context)
        _check(ui)
        existing = self._apps.get(app_label)
        if existing is not None and existing != ui:
            raise ImproperlyConfigured(f"hub.ui: {app_label!r} already registered its UI")
        self._apps[app_label] = ui

    def unregister(self, app_label):
        """Remove an app's registration (tests use it)."""
        self._apps.pop(app_label, None)

    def registered(self):
        """Every registration, in INSTALLED_APPS order."""
        order = {config.label: index for index, config in enumerate(apps.get_app_configs())}
        return sorted(self._apps.values(), key=lambda ui: order[ui.app_label])

    def slot(self, name):
        """[(AppUI, template name)] of the slot, in INSTALLED_APPS order."""
        if name not in SLOTS:
            raise KeyError(f"hub.ui: no slot {name!r}; the slots are {', '.join(SLOTS)}")
        return [(ui, ui.slots[name]) for ui in self.registered() if name in ui.slots]

    def modules(self):
        return [path for ui in self.registered() for path in ui.modules]

    def styles(self):
        return [path for ui in self.registered() for path in ui.styles]


def _check(ui):
    where = f"hub.ui.register({ui.app_label!r})"
    try:
        apps.get_app_config(ui.app_label)
    except LookupError:
        raise ImproperlyConfigured(f"{where}: no installed app has the label {ui.app_label!r}") from None
    if ui.context is not None and not callable(ui.context):
        raise ImproperlyConfigured(f"{where}: context must be a function of the request")
    for kind, paths, suffix in (("module", ui.modules, ".js"), ("stylesheet", ui.styles, ".css")):
        for path in paths:
            if not path.endswith(suffix):
                raise ImproperlyConfigured(f"{where}: {kind} {path!r} does not end in {suffix}")
            if finders.find(path) is None:
                raise ImproperlyConfigured(f"{where}: {kind} {path!r} is not a static file (no finder found it)")
    for slot, template in ui.slots.items():
        if slot not in SLOTS:
            raise ImproperlyConfigured(f"{where}: no slot {slot!r}; the slots are {', '.join(SLOTS)}")
        try:
            get_template(template)
        except TemplateDoesNotExist:
            raise ImproperlyConfigured(f"{where}: slot {slot!r}: no template {template!r}") from None
        except TemplateSyntaxError as error:
            raise ImproperlyConfigured(f"{where}: slot {slot!r}: template {template!r}: {error}") from error


registry = Registry()
register = registry.register
