// /settings/notifications/, while open: the form follows changes saved in other tabs (push `preferences`),
// so a later Save here does not put back what another tab just changed.
export class PreferencesPage {
  /** The page's form, or null on any other page. */
  static find() {
    const form = document.getElementById("notification-settings");
    return form ? new PreferencesPage(form) : null;
  }

  constructor(form) {
    this.form = form;
    this.status = document.getElementById("notification-settings-synced");
    this.shown = null; // the PREFERENCES the form shows, as JSON: only a real change is announced
  }

  /** Show these PREFERENCES; `live`: they came from a save elsewhere, say so. */
  show(preferences, live) {
    const json = JSON.stringify(preferences);
    if (json === this.shown) return;
    const first = this.shown === null;
    this.shown = json;
    if (first && !live) return; // the page was rendered with these
    for (const k of preferences.kinds) {
      for (const radio of this.form.querySelectorAll(`input[type=radio][name="kind_${CSS.escape(k.kind)}"]`)) {
        radio.checked = radio.value === k.delivery;
      }
    }
    this.form.elements.do_not_disturb.checked = preferences.do_not_disturb;
    this.form.elements.appear_offline.checked = preferences.appear_offline;
    if (live && this.status) this.status.textContent = "Updated: saved in another tab.";
  }
}
