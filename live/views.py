"""The live table page: /live/<stream>/ (the socket fills it: live/static/live/table.js)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from live import app_settings


@login_required
def stream_page(request, stream):
    if not app_settings.STREAM_NAME.match(stream):
        raise Http404("No such stream.")
    return render(request, "live/stream.html", {"stream": stream})
