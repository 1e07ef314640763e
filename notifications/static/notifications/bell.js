// The bell in the header: the unread count and a panel of the newest notifications. The panel
// opens on the bell and closes on the bell, Escape, a click outside or tabbing on past it.
import { el } from "../hub/dom.js";
import { label } from "./who.js";

export const PANEL_SIZE = 20;

export class Bell {
  /** open(n): a notification in the panel was chosen; readAll(): "Mark all read". */
  constructor({ open, readAll }) {
    this.bell = document.getElementById("bell");
    this.panel = document.getElementById("bell-panel");
    this.count = document.getElementById("bell-count");
    this.list = document.getElementById("bell-list");
    this.open = open;
    this.listen();
    document.getElementById("bell-read-all").addEventListener("click", readAll);
  }

  show(open) {
    this.panel.hidden = !open;
    this.bell.setAttribute("aria-expanded", String(open));
  }

  listen() {
    const { bell, panel } = this;
    const outside = (node) => !panel.contains(node) && !bell.contains(node);
    bell.addEventListener("click", () => this.show(panel.hidden));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !panel.hidden) {
        this.show(false);
        bell.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!panel.hidden && outside(event.target)) this.show(false);
    });
    // Keyboard users tabbing on past the panel leave it: close it, as a click outside would.
    panel.addEventListener("focusout", (event) => {
      if (event.relatedTarget && outside(event.relatedTarget)) this.show(false);
    });
  }

  render(items, unread) {
    this.bell.setAttribute("aria-label", `Notifications, ${unread} unread`);
    this.count.textContent = String(unread);
    this.count.hidden = unread === 0;
    const newest = [...items.values()].sort((a, b) => b.id - a.id).slice(0, PANEL_SIZE);
    if (!newest.length) {
      this.list.replaceChildren(el("li", { className: "empty", textContent: "Nothing yet." }));
      return;
    }
    this.list.replaceChildren(...newest.map((n) => {
      // Screen readers hear the state, which is otherwise only a style.
      const state = el("span", { className: "visually-hidden", textContent: n.unread ? "Unread: " : "Read: " });
      const choose = el("button", { type: "button" }, state, label(n));
      choose.addEventListener("click", () => this.open(n));
      const item = el("li", { className: n.unread ? "unread" : "read" }, choose);
      item.dataset.id = n.id;
      return item;
    }));
  }
}
