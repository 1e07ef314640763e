// @name completion in the composer. Typing "@al" asks the room for members whose username starts
// with "al" (`members`: at most 10, one indexed query, so it works the same in a room of any size;
// docs/protocol.md) and offers them in a list under the box: ↑/↓ move, Enter or Tab picks, Escape
// closes, a click picks. Only the answer to the latest keystroke is shown. Names go in as text.
import { el } from "../hub/dom.js";

// The @name right before the caret, as the server finds mentions (chat/services/messages.py): an @
// not preceded by a name character or another @, then name characters.
const TYPED = /(?<![\p{L}\p{N}_@])@([\p{L}\p{N}_.@+-]{1,150})$/u;

export class MentionCompleter {
  /** channel: the room's; input: the composer's textarea; list: the (hidden) <ul> of suggestions. */
  constructor(channel, input, list) {
    Object.assign(this, { channel, input, list });
    this.options = []; // the USERs shown
    this.active = -1;
    this.asked = 0; // the latest request; older answers are dropped
    this.typed = null; // {start, end} of the @name being completed
    input.addEventListener("input", () => this.update());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("blur", () => this.close());
    // mousedown, not click: picking must not take the focus from the composer first.
    list.addEventListener("mousedown", (event) => {
      const option = event.target.closest("li[data-index]");
      if (!option) return;
      event.preventDefault();
      this.pick(Number(option.dataset.index));
    });
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    const end = this.input.selectionStart;
    const match = TYPED.exec(this.input.value.slice(0, end));
    if (!match || !this.channel.joined) {
      this.close();
      return;
    }
    const asked = ++this.asked;
    let data;
    try {
      data = await this.channel.request("members", { prefix: match[1] });
    } catch {
      return; // rate limited or offline: no suggestions this time, typing goes on
    }
    if (asked !== this.asked) return;
    this.typed = { start: end - match[1].length - 1, end };
    this.show(data.members);
  }

  show(users) {
    this.options = users;
    if (users.length === 0) {
      this.close();
      return;
    }
    this.list.replaceChildren(...users.map((user, index) => {
      const item = el("li", { id: `mention-option-${index}`, textContent: `@${user.username}` });
      item.setAttribute("role", "option");
      item.dataset.index = index;
      item.dataset.username = user.username;
      if (user.display_name !== user.username) {
        item.append(el("span", { className: "mention-name", textContent: ` ${user.display_name}` }));
      }
      return item;
    }));
    this.list.hidden = false;
    this.highlight(0);
  }

  highlight(index) {
    this.active = index;
    this.list.querySelectorAll("li").forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    this.input.setAttribute("aria-activedescendant", `mention-option-${index}`);
  }

  /** Arrow keys move, Enter or Tab picks, Escape closes; the composer's own Enter (send) then does nothing. */
  key(event) {
    if (!this.open || event.isComposing) return;
    const count = this.options.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.highlight((this.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.pick(this.active);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
  }

  /** Put "@username " in place of the @name typed so far. */
  pick(index) {
    const user = this.options[index];
    if (!user || !this.typed) return;
    const { start, end } = this.typed;
    const value = this.input.value;
    const inserted = `@${user.username} `;
    this.input.value = value.slice(0, start) + inserted + value.slice(end);
    const caret = start + inserted.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
  }

  close() {
    this.asked += 1; // an answer still on its way is for a list no longer wanted
    this.typed = null;
    this.options = [];
    this.active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.input.removeAttribute("aria-activedescendant");
  }
}
