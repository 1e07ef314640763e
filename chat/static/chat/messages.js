// A room's message list: one <li> per message in id order, replaced in place when edited or
// deleted, with Edit and Delete on the user's own. A batch (the join, older history) is not
// read out by screen readers; a single new message is. Text goes in with textContent only.
import { button, el } from "../hub/dom.js";

// Today: the time alone; earlier: with the day, so old messages are not ambiguous.
function timeNode(iso) {
  const when = new Date(iso);
  const today = when.toDateString() === new Date().toDateString();
  const format = today ? { hour: "2-digit", minute: "2-digit" }
    : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  const node = el("time", { textContent: when.toLocaleString([], format) });
  node.dateTime = iso;
  node.title = when.toLocaleString();
  return node;
}

export class MessageList {
  /**
   * me: the user's username; edit(m, body) and remove(m) act on their own messages;
   * onStored(m): a stored message was shown (the outbox drops its pending copy);
   * onChange(): the list changed (a batch shown, or cleared): what hangs on messages (receipts) follows.
   */
  constructor(list, { me, edit, remove, onStored, onChange = () => {} }) {
    this.list = list;
    this.me = me;
    this.actions = { edit, remove };
    this.onStored = onStored;
    this.onChange = onChange;
    this.byId = new Map(); // id -> MESSAGE
    this.lastId = null; // the newest id shown (read markers, history pages)
    this.lastSeq = null; // the newest stream position shown, to resume with `since_seq`
    this.lastChange = 0; // the room's newest change position known, to resume with `since_change`
    this.oldestId = null; // the oldest, for loading history
  }

  /** The room's change position as a join read it (`last_change`). */
  noteChange(position) {
    if (typeof position === "number" && position > this.lastChange) this.lastChange = position;
  }

  node(m) {
    const item = el("li", { className: m.deleted ? "deleted" : "" });
    item.dataset.id = m.id;
    const author = el("span", { className: "author", textContent: m.author.display_name });
    author.dataset.username = m.author.username; // the Online sidebar watches the people on the page
    item.append(author, timeNode(m.created_at));
    if (m.edited_at && !m.deleted) {
      // A moderator's edit says whose it is, so nobody takes it for the author's words.
      const by = m.edited_by && m.edited_by.id !== m.author.id ? ` by ${m.edited_by.display_name}` : "";
      item.append(el("span", { className: "edited", textContent: `(edited${by})` }));
    }
    item.append(el("span", { className: "body", textContent: m.deleted ? "message deleted" : m.body }));
    if (m.author.username === this.me && !m.deleted) {
      const edit = button("Edit", { label: "Edit message" });
      edit.addEventListener("click", () => {
        const body = prompt("Edit message", m.body);
        if (body !== null) this.actions.edit(m, body);
      });
      const del = button("Delete", { label: "Delete message" });
      del.addEventListener("click", () => {
        if (confirm("Delete this message?")) this.actions.remove(m);
      });
      item.append(el("span", { className: "actions" }, edit, del));
    }
    return item;
  }

  /** Show one message: new ones in id order (before the pending ones), known ones replaced. */
  upsert(m) {
    const known = this.byId.has(m.id);
    // An older state of a message shown (a late or repeated push): never go back to it.
    if (known && (m.change_seq || 0) < (this.byId.get(m.id).change_seq || 0)) return;
    this.byId.set(m.id, m);
    this.noteChange(m.change_seq);
    this.onStored(m);
    if (this.lastId === null || m.id > this.lastId) this.lastId = m.id;
    if (this.lastSeq === null || m.seq > this.lastSeq) this.lastSeq = m.seq;
    if (this.oldestId === null || m.id < this.oldestId) this.oldestId = m.id;
    const node = this.node(m);
    const existing = this.list.querySelector(`li[data-id="${m.id}"]`);
    if (existing) {
      existing.replaceWith(node);
      return;
    }
    if (known) return;
    const after = [...this.list.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > m.id);
    this.list.insertBefore(node, after || this.list.querySelector("li.pending"));
  }

  /** Show a batch; follow it to the bottom if the reader was there (unless scroll is false). */
  add(batch, { scroll = true } = {}) {
    const stick = this.atBottom();
    // A batch (the join, older history) is not news: keep screen readers from reading it out.
    const quiet = batch.length > 1;
    if (quiet) this.list.setAttribute("aria-live", "off");
    for (const m of batch) this.upsert(m);
    if (quiet) setTimeout(() => this.list.setAttribute("aria-live", "polite"), 500);
    this.onChange();
    if (scroll && stick) this.scrollToEnd();
  }

  /** Forget every stored message (too much was missed: the room starts over from the newest). */
  clear() {
    this.byId.clear();
    this.list.querySelectorAll("li[data-id]").forEach((li) => li.remove());
    this.lastId = null;
    this.lastSeq = null;
    this.lastChange = 0;
    this.oldestId = null;
    this.onChange();
  }

  atBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
