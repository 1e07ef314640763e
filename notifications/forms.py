"""/settings/notifications/: one choice per registered kind, do-not-disturb and appear offline."""

from django import forms

from notifications import kinds


class PreferencesForm(forms.Form):
    do_not_disturb = forms.BooleanField(
        required=False, label="Do not disturb",
        help_text="Notifications are still kept and counted, but nothing pops up.")
    appear_offline = forms.BooleanField(
        required=False, label="Appear offline",
        help_text="Others see you as offline; you still see who is online.")

    def __init__(self, *args, preferences, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds.all_kinds()
        chosen = {k["kind"]: k["delivery"] for k in preferences["kinds"]}
        for kind in self.kinds:
            self.fields[self.field_name(kind)] = forms.ChoiceField(
                label=kind.label, widget=forms.RadioSelect, initial=chosen[kind.name],
                choices=[(d, kinds.DELIVERY_LABELS[d]) for d in kind.deliveries])
        self.fields["do_not_disturb"].initial = preferences["do_not_disturb"]
        self.fields["appear_offline"].initial = preferences["appear_offline"]

    @staticmethod
    def field_name(kind):
        return f"kind_{kind.name}"

    def kind_fields(self):
        return [self[self.field_name(kind)] for kind in self.kinds]

    def deliveries(self):
        return {kind.name: self.cleaned_data[self.field_name(kind)] for kind in self.kinds}
