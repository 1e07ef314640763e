// Bell, toasts and announcement banners on the hub socket. User text via textContent only.

const items = new Map(); // id -> NOTIFICATION (newest in the panel)
let unread = 0;
let lastId = null; // newest id seen, for resuming with `since`
const PANEL_SIZE = 20;
const TOAST_MS = 6000;
const MAX_TOASTS = 4;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function renderBell() {
  const bell = document.getElementById("bell");
  const count = document.getElementById("bell-count");
  bell.setAttribute("aria-label", `Notifications, ${unread} unread`);
  count.textContent = String(unread);
  count.hidden = unread === 0;
  const list = document.getElementById("bell-list");
  const newest = [...items.values()].sort((a, b) => b.id - a.id).slice(0, PANEL_SIZE);
  list.replaceChildren(...newest.map((n) => {
    const button = el("button", { type: "button" },
      el("span", { className: "visually-hidden", textContent: n.unread ? "Unread: " : "Read: " }), n.verb);
    button.addEventListener("click", () => markRead(n));
    const item = el("li", { className: n.unread ? "unread" : "read" }, button);
    item.dataset.id = n.id;
    return item;
  }));
  if (!newest.length) list.replaceChildren(el("li", { className: "empty", textContent: "Nothing yet." }));
}

let channel = null;

// The server only stores these, but a link is followed here: never anything but a path
// on this site or an http(s) URL (a stored "javascript:" URL would run as script).
function safeUrl(url) {
  return typeof url === "string" && /^(\/(?![\/\\])|https?:\/\/)/i.test(url) ? url : null;
}

function markRead(n) {
  if (n.unread) channel.request("read", { ids: [n.id] }).catch(() => {});
  const url = safeUrl(n.url);
  if (url) location.assign(url);
}

function remember(n) {
  items.set(n.id, n);
  if (lastId === null || n.id > lastId) lastId = n.id;
}

function toast(n) {
  const region = document.getElementById("toasts");
  const node = el("div", { className: "toast", textContent: n.verb });
  node.dataset.level = n.level;
  region.append(node);
  // A burst (e.g. a resume) must not cover the page: keep the newest few.
  while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
  setTimeout(() => node.remove(), TOAST_MS);
}

function onNotificationEvent(event, payload) {
  if (event === "new") {
    if (items.has(payload.notification.id)) return; // a duplicate after a resume
    remember(payload.notification);
    unread = payload.unread;
    toast(payload.notification);
  } else if (event === "unread") {
    unread = payload.unread;
    for (const n of items.values()) {
      if (payload.read_ids === "all" || payload.read_ids.includes(n.id)) n.unread = false;
    }
  }
  renderBell();
  syncListPage(event, payload);
}

// "2026-11-25 19:12" in the reader's time zone (the page renders the server's until this runs).
function stamp(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

function initListPage() {
  const list = document.getElementById("notification-page-list");
  if (!list) return;
  for (const time of list.querySelectorAll("time[datetime]")) time.textContent = stamp(time.dateTime);
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-mark-read]");
    if (button) channel.request("read", { ids: [Number(button.dataset.markRead)] }).catch(() => {});
  });
}

// The /notifications/ page, when open: new items appear on page 1; read state and the count follow every tab.
function syncListPage(event, payload) {
  const list = document.getElementById("notification-page-list");
  if (!list) return;
  document.getElementById("notification-page-unread").textContent = `${payload.unread} unread`;
  document.getElementById("notification-page-read-all").hidden = payload.unread === 0;
  if (event === "new" && list.dataset.page === "1") {
    const n = payload.notification;
    if (list.querySelector(`li[data-id="${n.id}"]`)) return;
    const url = safeUrl(n.url);
    const label = url ? el("a", { href: url, textContent: n.verb }) : document.createTextNode(n.verb);
    const item = el("li", { className: `unread level-${n.level}` },
      el("span", { className: "state", textContent: "Unread" }), " ", label);
    if (n.actor) item.append(" ", el("span", { className: "meta", textContent: `from ${n.actor.username}` }));
    const time = el("time", { className: "meta", dateTime: n.created_at, textContent: stamp(n.created_at) });
    const read = el("button", { type: "button", className: "secondary small", textContent: "Mark read" });
    read.dataset.markRead = n.id;
    item.append(" ", time, " ", read);
    item.dataset.id = n.id;
    list.prepend(item);
    document.getElementById("notification-page-empty").hidden = true;
  } else if (event === "unread") {
    for (const item of list.querySelectorAll("li.unread")) {
      if (payload.read_ids === "all" || payload.read_ids.includes(Number(item.dataset.id))) {
        item.classList.replace("unread", "read");
        item.querySelector(".state").textContent = "Read";
        item.querySelector("[data-mark-read]")?.remove();
      }
    }
  }
}

const banners = new Map(); // id -> ANNOUNCEMENT

let expiryTimer = null;

function renderBanners() {
  const region = document.getElementById("announcements");
  const now = Date.now();
  for (const [id, a] of banners) {
    if (a.expires_at && Date.parse(a.expires_at) <= now) banners.delete(id);
  }
  const list = [...banners.values()].sort((a, b) => a.id - b.id);
  // Take a banner down when it expires, as the server stops returning it then.
  clearTimeout(expiryTimer);
  const next = Math.min(...list.filter((a) => a.expires_at).map((a) => Date.parse(a.expires_at)));
  if (Number.isFinite(next)) expiryTimer = setTimeout(renderBanners, Math.min(next - now + 50, 2 ** 31 - 1));
  region.replaceChildren(...list.map((a) => {
    const dismiss = el("button", { type: "button", className: "secondary small", textContent: "Dismiss" });
    dismiss.setAttribute("aria-label", `Dismiss announcement: ${a.title}`);
    dismiss.addEventListener("click", () => {
      banners.delete(a.id);
      renderBanners();
      hubRef.request("announcements", "dismiss", { id: a.id }).catch(() => {});
    });
    const text = el("div", { className: "text" },
      el("strong", { className: "title", textContent: a.title }), " ", el("span", { className: "body", textContent: a.body }));
    const node = el("div", { className: "announcement" }, text, dismiss);
    node.dataset.level = a.level;
    node.dataset.id = a.id;
    node.setAttribute("role", a.level === "critical" ? "alert" : "status");
    return node;
  }));
}

let hubRef = null;
let lastAnnouncementId = null;

function showBanner(a) {
  banners.set(a.id, a);
  if (lastAnnouncementId === null || a.id > lastAnnouncementId) lastAnnouncementId = a.id;
}

export function init(hub) {
  hubRef = hub;
  const bell = document.getElementById("bell");
  if (!bell) return;
  const panel = document.getElementById("bell-panel");
  const showPanel = (open) => {
    panel.hidden = !open;
    bell.setAttribute("aria-expanded", String(open));
  };
  bell.addEventListener("click", () => showPanel(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      showPanel(false);
      bell.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !panel.contains(event.target) && !bell.contains(event.target)) showPanel(false);
  });
  // Keyboard users tabbing on past the panel leave it: close it, as a click outside would.
  panel.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !panel.contains(event.relatedTarget) && !bell.contains(event.relatedTarget)) {
      showPanel(false);
    }
  });
  document.getElementById("bell-read-all").addEventListener("click", () => {
    channel.request("read_all", {}).catch(() => {});
  });
  initListPage();
  channel = hub.join("notifications", {
    payload: () => (lastId === null ? {} : { since: lastId }),
    onJoin(data) {
      if (data.more) { // too much was missed: reload the newest instead of the gap
        items.clear();
        lastId = null;
        hub.rejoin("notifications");
        return;
      }
      const resumed = lastId !== null;
      for (const n of data.items) remember(n);
      unread = data.unread;
      renderBell();
      // Back after a disconnect: items already shown may have been read in another tab
      // meanwhile. The newest page says how they stand now.
      if (resumed) {
        channel.request("list", { limit: PANEL_SIZE }).then((fresh) => {
          for (const n of fresh.items) items.set(n.id, n);
          renderBell();
        }).catch(() => {});
      }
    },
    onEvent: onNotificationEvent,
  });
  hub.join("announcements", {
    payload: () => (lastAnnouncementId === null ? {} : { since: lastAnnouncementId }),
    onJoin(data) {
      banners.clear();
      for (const a of data.items) showBanner(a);
      renderBanners();
    },
    onEvent(event, payload) {
      if (event === "new") showBanner(payload.announcement);
      if (event === "dismissed") banners.delete(payload.id);
      renderBanners();
    },
  });
}
