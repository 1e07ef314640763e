// The user's notifications: joins `notifications` (resuming `since` the newest id seen), keeps
// the newest ones and the unread count, and feeds the bell, the toasts and, when it is open,
// the /notifications/ page. Pushes: `new` (one more, with the count), `updated` (a grouped item took in
// one more: "alice, bob and 3 others ..."), `unread` (read in some tab of the user, this one included)
// and `preferences` (saved in some tab: do-not-disturb stops the toasts; the settings page follows).
import { safeUrl } from "../hub/dom.js";
import { Bell } from "./bell.js";
import { ListPage } from "./list_page.js";
import { PreferencesPage } from "./preferences_page.js";
import { toast } from "./toasts.js";

export function init(hub) {
  if (!document.getElementById("bell")) return;
  const items = new Map(); // id -> NOTIFICATION
  let unread = 0;
  let lastSeq = null; // the newest stream position seen, to resume with `since_seq`
  const channel = hub.channel("notifications", { params: () => (lastSeq === null ? {} : { since_seq: lastSeq }) });
  const bell = new Bell({
    open(n) {
      if (n.unread) channel.request("read", { ids: [n.id] }).catch(() => {});
      const url = safeUrl(n.url);
      if (url) location.assign(url);
    },
    readAll: () => channel.request("read_all", {}).catch(() => {}),
  });
  const page = ListPage.find(channel);
  const settingsPage = PreferencesPage.find();
  let doNotDisturb = false;
  const prefer = (preferences, live) => {
    doNotDisturb = preferences.do_not_disturb;
    document.getElementById("bell").dataset.dnd = doNotDisturb ? "on" : "off";
    settingsPage?.show(preferences, live);
  };
  const render = () => bell.render(items, unread);
  const remember = (n) => {
    items.set(n.id, n);
    if (lastSeq === null || n.seq > lastSeq) lastSeq = n.seq;
  };

  channel.onJoin((data) => {
    if (data.more) { // too much was missed: reload the newest instead of the gap
      items.clear();
      lastSeq = null;
      channel.rejoin();
      return;
    }
    // Back after a disconnect: items already shown may have been read in another tab meanwhile;
    // `unread_ids` lists those up to `since_seq` that are still unread.
    if (data.unread_ids) {
      const stillUnread = new Set(data.unread_ids);
      for (const n of items.values()) if (!stillUnread.has(n.id)) n.unread = false;
    }
    for (const n of data.items) remember(n);
    unread = data.unread;
    prefer(data.preferences, false);
    render();
  });
  // `new`, and `updated` (a grouped item took in one more: the same id, a new position).
  const arrived = (payload, already, show) => {
    if (already) return; // a duplicate after a resume
    if (lastSeq !== null && payload.notification.seq > lastSeq + 1) {
      channel.rejoin(); // one before it has not arrived (pushes can cross): fetch the gap, in order
      return;
    }
    remember(payload.notification);
    unread = payload.unread;
    if (!doNotDisturb) toast(payload.notification); // still kept and counted
    render();
    show(payload);
  };
  channel.on("new", (payload) => arrived(payload, items.has(payload.notification.id), (p) => page?.added(p)));
  channel.on("updated", (payload) => arrived(payload, lastSeq !== null && payload.notification.seq <= lastSeq,
    (p) => page?.updated(p)));
  channel.on("unread", (payload) => {
    unread = payload.unread;
    for (const n of items.values()) {
      if (payload.read_ids === "all" || payload.read_ids.includes(n.id)) n.unread = false;
    }
    render();
    page?.read(payload);
  });
  channel.on("preferences", ({ preferences }) => prefer(preferences, true));
  channel.join();
}
