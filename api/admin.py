"""Admin: staff create tokens (the secret is shown once, in a message) and revoke them; nothing else is editable."""

from django import forms
from django.contrib import admin, messages

from api import app_settings, services
from api.models import ApiToken
from hub.admin import adopt_saved
from hub.errors import HubError


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=[(s, s) for s in app_settings.SCOPES],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("name", "scopes")

    def clean(self):
        data = super().clean()
        try:
            services.token_check(name=data.get("name"), scopes=data.get("scopes") or [])
        except HubError as error:
            raise forms.ValidationError(error.message)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made through services.token_create, so the secret is never stored and shown once."""

    form = ApiTokenForm
    list_display = ("name", "prefix", "scope_list", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "scopes", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        return ("name", "scopes") if obj is None else self.get_readonly_fields(request, obj)

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of a token is editable: revoke it and create another
        token, secret = services.token_create(name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                              created_by=request.user)
        adopt_saved(obj, token)
        messages.warning(request, f"The token {token.name!r} is {secret} — copy it now: it is not shown again.")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(services.token_revoke(name=token.name) for token in queryset)
        messages.success(request, f"Revoked {revoked} token(s).")
