// The /notifications/ page, while open: times in the reader's time zone (the server renders
// UTC until this runs), its "Mark read" buttons, and live sync: a new notification appears on
// page 1, and read state and the count follow every tab.
import { button, el, safeUrl } from "../hub/dom.js";
import { label as text } from "./who.js";

/** "2026-11-25 19:12", local time. */
function stamp(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

function notificationItem(n) {
  const url = safeUrl(n.url);
  const label = url ? el("a", { href: url, textContent: text(n) }) : document.createTextNode(text(n));
  const item = el("li", { className: `unread level-${n.level}` },
    el("span", { className: "state", textContent: "Unread" }), " ", label);
  if (n.actor && n.count === 1) item.append(" ", el("span", { className: "meta", textContent: `from ${n.actor.username}` }));
  const time = el("time", { className: "meta", dateTime: n.created_at, textContent: stamp(n.created_at) });
  const read = button("Mark read", { className: "secondary small" });
  read.dataset.markRead = n.id;
  item.append(" ", time, " ", read);
  item.dataset.id = n.id;
  return item;
}

export class ListPage {
  /** The page's live list, or null on any other page. */
  static find(channel) {
    const list = document.getElementById("notification-page-list");
    return list ? new ListPage(list, channel) : null;
  }

  constructor(list, channel) {
    this.list = list;
    for (const time of list.querySelectorAll("time[datetime]")) time.textContent = stamp(time.dateTime);
    list.addEventListener("click", (event) => {
      const mark = event.target.closest("[data-mark-read]");
      if (mark) channel.request("read", { ids: [Number(mark.dataset.markRead)] }).catch(() => {});
    });
  }

  showCount(unread) {
    document.getElementById("notification-page-unread").textContent = `${unread} unread`;
    document.getElementById("notification-page-read-all").hidden = unread === 0;
  }

  /** Push `new`. */
  added({ notification, unread }) {
    this.showCount(unread);
    if (this.list.dataset.page !== "1" || this.list.querySelector(`li[data-id="${notification.id}"]`)) return;
    this.list.prepend(notificationItem(notification));
    document.getElementById("notification-page-empty").hidden = true;
  }

  /** Push `updated`: a grouped item took in one more; it changes in place (or comes back, unread, on page 1). */
  updated({ notification, unread }) {
    this.showCount(unread);
    const old = this.list.querySelector(`li[data-id="${notification.id}"]`);
    if (old) old.replaceWith(notificationItem(notification));
    else this.added({ notification, unread });
  }

  /** Push `unread`: some were read, in this tab or another. */
  read({ unread, read_ids: ids }) {
    this.showCount(unread);
    for (const item of this.list.querySelectorAll("li.unread")) {
      if (ids === "all" || ids.includes(Number(item.dataset.id))) {
        item.classList.replace("unread", "read");
        item.querySelector(".state").textContent = "Read";
        item.querySelector("[data-mark-read]")?.remove();
      }
    }
  }
}
