"""The documents' pages: /docs/ (list and create) and /docs/<id>/ (the editor, and sharing for the owner).

The editor's text comes over the socket (collab/static/collab/editor.js), never in the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from collab import app_settings, services
from collab.forms import DocumentForm, ShareForm
from hub.errors import HubError, NotFound


@login_required
def document_list(request):
    form = DocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        document = services.document_create(owner=request.user, title=form.cleaned_data["title"],
                                            public=form.cleaned_data["public"])
        return redirect("collab:document", document_id=document.pk)
    documents = services.visible_to(request.user).select_related("owner")
    return render(request, "collab/list.html", {"documents": documents, "form": form})


def _document(request, document_id):
    try:
        return services.document_for(document_id=document_id, user=request.user)
    except NotFound:
        raise Http404("No such document.")  # one the user may not open answers as one that does not exist


@login_required
def document_page(request, document_id):
    document, role = _document(request, document_id)
    owner = document.owner_id == request.user.pk
    return render(request, "collab/document.html", {
        "document": document, "role": role, "is_owner": owner,
        "editors": document.editors.order_by("username") if owner else (),
        "share_form": ShareForm(), "update_max_bytes": app_settings.UPDATE_MAX_BYTES,
    })


@login_required
@require_POST
def document_share(request, document_id):
    document, _ = _document(request, document_id)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("collab:document", document_id=document.pk)
    action, username = form.cleaned_data["action"], form.cleaned_data["username"]
    try:
        if action == "add_editor":
            services.document_share(document=document, by=request.user, add_editor=username)
            messages.success(request, f"{username} may edit now.")
        elif action == "remove_editor":
            services.document_share(document=document, by=request.user, remove_editor=username)
            messages.success(request, f"{username} may no longer edit.")
        else:
            services.document_share(document=document, by=request.user, public=form.cleaned_data["public"])
            messages.success(request, "Everyone may view it now." if form.cleaned_data["public"]
                             else "Only you and its editors may open it now.")
    except HubError as error:
        messages.error(request, error.message)
    return redirect("collab:document", document_id=document.pk)


@login_required
@require_POST
def document_delete(request, document_id):
    document, _ = _document(request, document_id)
    try:
        services.document_delete(document=document, by=request.user)
    except HubError as error:
        messages.error(request, error.message)
        return redirect("collab:document", document_id=document.pk)
    messages.success(request, f"Deleted “{document.title}”.")
    return redirect("collab:list")
