// "Seen by alice, bob" under the newest shown message each other member has read. Only a room of
// at most 20 members has receipts (docs/protocol.md, read receipts): its join lists every
// member's marker (`read_markers`, null in a bigger room) and its `read` pushes keep them current.
// Names go in with textContent only.
import { el } from "../hub/dom.js";

export class Receipts {
  /** list: the messages' <ol>; me: the viewer's username (their own marker is not shown). */
  constructor(list, me) {
    this.list = list;
    this.me = me;
    this.markers = null; // username -> {user, upTo}; null: the room is too big to show receipts
  }

  /** A join's `read_markers`: a list of {user, last_read_id}, or null. */
  reset(markers) {
    this.markers = markers === null || markers === undefined ? null : new Map();
    for (const { user, last_read_id: upTo } of markers || []) this.markers.set(user.username, { user, upTo });
    this.render();
  }

  /** Push `read`: {user, up_to}. A member not listed yet (joined since) is added. */
  read({ user, up_to: upTo }) {
    if (this.markers === null) return;
    const known = this.markers.get(user.username);
    if (known && known.upTo !== null && known.upTo >= upTo) return; // markers never move back
    this.markers.set(user.username, { user, upTo });
    this.render();
  }

  /** Put each other member's name under the newest shown message at or before their marker. */
  render() {
    this.list.querySelectorAll(".seen-by").forEach((node) => node.remove());
    if (this.markers === null) return;
    const items = [...this.list.querySelectorAll("li[data-id]")];
    const ids = items.map((li) => Number(li.dataset.id));
    const names = new Map(); // message id -> [display names]
    for (const { user, upTo } of this.markers.values()) {
      if (user.username === this.me || upTo === null) continue;
      let seen = null; // the newest shown id <= upTo (ids are in order)
      for (const id of ids) if (id <= upTo) seen = id;
      if (seen === null) continue;
      if (!names.has(seen)) names.set(seen, []);
      names.get(seen).push(user.display_name);
    }
    for (const li of items) {
      const who = names.get(Number(li.dataset.id));
      if (who) li.append(el("p", { className: "seen-by", textContent: `Seen by ${who.sort().join(", ")}` }));
    }
  }
}
