"""The forms of the documents' pages; what they may hold is checked again by collab.services."""

from django import forms

from collab import app_settings


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=app_settings.TITLE_MAX_LENGTH, strip=True)
    public = forms.BooleanField(required=False, label="Everyone on the site may view it")


class ShareForm(forms.Form):
    """One change at a time: add an editor, remove one, or set who may view."""

    ACTIONS = ("add_editor", "remove_editor", "set_public")
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    username = forms.CharField(max_length=150, required=False, strip=True)
    public = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") in ("add_editor", "remove_editor") and not data.get("username"):
            self.add_error("username", "Give a username.")
        return data
