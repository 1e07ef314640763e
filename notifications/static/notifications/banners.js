// Announcement banners: joins `announcements` and shows the active ones, oldest first. A banner
// goes when it expires (the server stops returning it then), when the user dismisses it in any
// tab, or when staff delete or withdraw it (push `deleted`, `withdrawn`); a staff edit (push `updated`) replaces it, and
// one whose `expires_at` was moved into the past goes; `refresh` replaces them all (announcements turned
// off or on at /settings/notifications/). Text goes in with textContent only.
import { button, el } from "../hub/dom.js";

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's longest wait

function bannerNode(a, dismiss) {
  const close = button("Dismiss", { className: "secondary small", label: `Dismiss announcement: ${a.title}` });
  close.addEventListener("click", () => dismiss(a));
  const text = el("div", { className: "text" },
    el("strong", { className: "title", textContent: a.title }), " ", el("span", { className: "body", textContent: a.body }));
  const node = el("div", { className: "announcement" }, text, close);
  node.dataset.level = a.level;
  node.dataset.id = a.id;
  node.setAttribute("role", a.level === "critical" ? "alert" : "status");
  return node;
}

class Banners {
  constructor(region, hub) {
    this.region = region;
    this.shown = new Map(); // id -> ANNOUNCEMENT
    // Taken down here at their expiry: an edit that moves `expires_at` later brings them back.
    // Other unknown ids in `updated` were dismissed (or never this user's): they stay away.
    this.expired = new Set();
    this.lastId = null; // the newest id seen, to resume with `since`
    this.expiryTimer = null;
    this.channel = hub.channel("announcements", {
      params: () => (this.lastId === null ? {} : { since: this.lastId }),
    });
    this.channel.onJoin((data) => {
      this.shown.clear();
      for (const a of data.items) this.remember(a);
      this.render();
    });
    this.channel.on("new", ({ announcement }) => this.add(announcement));
    this.channel.on("updated", ({ announcement }) => this.replace(announcement));
    this.channel.on("dismissed", ({ id }) => this.remove(id));
    this.channel.on("deleted", ({ id }) => this.remove(id));
    this.channel.on("withdrawn", ({ id }) => this.remove(id));
    // The person turned announcements off or on again (in some tab): the whole list, as a join has it.
    this.channel.on("refresh", ({ items }) => {
      this.shown.clear();
      for (const a of items) this.remember(a);
      this.render();
    });
  }

  remember(a) {
    this.shown.set(a.id, a);
    if (this.lastId === null || a.id > this.lastId) this.lastId = a.id;
  }

  add(a) {
    this.remember(a);
    this.render();
  }

  replace(a) {
    if (!this.shown.has(a.id) && !this.expired.delete(a.id)) return;
    this.add(a); // render() takes it down again if its new `expires_at` has passed
  }

  remove(id) {
    this.shown.delete(id);
    this.expired.delete(id);
    this.render();
  }

  dismiss(a) {
    this.remove(a.id);
    this.channel.request("dismiss", { id: a.id }).catch(() => {});
  }

  /** Drop the expired ones and set a timer for the next expiry. */
  expire() {
    const now = Date.now();
    for (const [id, a] of this.shown) {
      if (a.expires_at && Date.parse(a.expires_at) <= now) {
        this.shown.delete(id);
        this.expired.add(id);
      }
    }
    clearTimeout(this.expiryTimer);
    const next = Math.min(...[...this.shown.values()].filter((a) => a.expires_at).map((a) => Date.parse(a.expires_at)));
    if (Number.isFinite(next)) this.expiryTimer = setTimeout(() => this.render(), Math.min(next - now + 50, MAX_TIMER_MS));
  }

  render() {
    this.expire();
    const active = [...this.shown.values()].sort((a, b) => a.id - b.id);
    this.region.replaceChildren(...active.map((a) => bannerNode(a, (chosen) => this.dismiss(chosen))));
  }
}

export function init(hub) {
  const region = document.getElementById("announcements");
  if (!region) return;
  new Banners(region, hub).channel.join();
}
