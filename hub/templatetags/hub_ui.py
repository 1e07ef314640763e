"""Template tags rendering the UI the apps registered with `hub.ui`: `{% load hub_ui %}`.

`{% hub_styles %}` and `{% hub_modules %}` go in <head>, `{% hub_slot "name" %}` where the slot
is. None of them names an app.
"""

from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.encoding import filepath_to_uri
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import mark_safe

from hub import ui

register = template.Library()


@register.simple_tag
def hub_styles():
    """A stylesheet link for each registered stylesheet."""
    return format_html_join("\n", '<link rel="stylesheet" href="{}">', ((static(path),) for path in ui.registry.styles()))


def module_url(path):
    """The module's unhashed URL, unlike `{% static %}` after collectstatic.

    A browser runs a module once per URL, and modules import each other by relative, unhashed
    paths (`../hub/dom.js`): a hashed URL here would run a module a second time, with its own
    state, if another module imports it too. WhiteNoise serves the unhashed names as well.
    """
    return urljoin(settings.STATIC_URL, filepath_to_uri(path))


@register.simple_tag
def hub_modules():
    """The registered modules: preloaded, and listed for app.js in <script id="hub-modules">."""
    urls = [module_url(path) for path in ui.registry.modules()]
    preloads = format_html_join("\n", '<link rel="modulepreload" href="{}">', ((url,) for url in urls))
    return format_html("{}\n{}", preloads, json_script(urls, "hub-modules"))


class SlotNode(template.Node):
    def __init__(self, name):
        self.name = name

    def render(self, context):
        request = context.get("request")
        parts = []
        for app_ui, name in ui.registry.slot(self.name):
            slot_template = context.template.engine.get_template(name)
            with context.push(app_ui.template_context(request)):
                parts.append(slot_template.render(context))
        return mark_safe("".join(parts))  # each part is a rendered template: escaped already


@register.tag
def hub_slot(parser, token):
    """`{% hub_slot "header" %}`: each registered template of the slot, with the page's context
    plus its app's context hook. An unknown slot name fails when the template is compiled."""
    bits = token.split_contents()
    name = bits[1][1:-1] if len(bits) == 2 and bits[1][:1] in "'\"" and bits[1][-1] == bits[1][0] else None
    if name not in ui.SLOTS:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes one quoted slot name, one of: {', '.join(ui.SLOTS)}"
        )
    return SlotNode(name)
