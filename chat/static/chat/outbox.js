// Sending: a message shows as pending at once, then goes out one at a time in the order typed
// (so a burst keeps its order and a rate limit is waited out once, not raced by every message),
// retried with the same client_id until the server has it: stored once, never twice. A send
// refused for good (too long, no longer a member) offers Retry and Discard.
import { button, el } from "../hub/dom.js";

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Outbox {
  /** channel: the room's; messages: its MessageList; input: the composer; say(text) / showError(err). */
  constructor({ channel, messages, input, say, showError }) {
    Object.assign(this, { channel, messages, input, say, showError });
    this.pending = new Map(); // client_id -> {body, node}
    this.queue = []; // client ids to send, oldest first
    this.flushing = false;
  }

  add(body) {
    const clientId = newClientId();
    const node = el("li", { className: "pending" },
      el("span", { className: "author", textContent: "You" }),
      el("span", { className: "edited", textContent: "sending…" }),
      el("span", { className: "body", textContent: body }));
    this.messages.list.append(node);
    this.messages.scrollToEnd();
    this.pending.set(clientId, { body, node });
    this.queue.push(clientId);
    this.flush();
  }

  /** A stored message arrived (reply or push): its pending copy goes. */
  settle(message) {
    const entry = message.client_id && this.pending.get(message.client_id);
    if (!entry) return;
    entry.node.remove();
    this.pending.delete(message.client_id);
  }

  /** Send what is queued; called on each send and after each (re-)join of the room. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length) {
        const clientId = this.queue[0];
        const entry = this.pending.get(clientId);
        if (!entry) { this.queue.shift(); continue; }
        try {
          const data = await this.channel.request("send", { body: entry.body, client_id: clientId });
          this.queue.shift();
          this.messages.upsert(data.message);
          this.say("");
        } catch (err) {
          if (err.code === "disconnected" || err.code === "timeout") return; // flushed again on the re-join
          if (err.code === "rate_limited") {
            this.say(`Sending slowly to stay within the rate limit (${this.queue.length} waiting).`);
            await sleep(Math.ceil((err.retryAfter || 1) * 1000));
            continue;
          }
          this.queue.shift(); // refused for good: say so, keep the rest going
          this.markFailed(clientId, entry, err);
          this.showError(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  markFailed(clientId, entry, err) {
    const label = entry.node.querySelector(".edited");
    entry.node.classList.add("failed");
    label.textContent = `not sent: ${err.message || "refused"}`;
    const retry = button("Retry");
    const discard = button("Discard");
    const actions = el("span", { className: "actions" }, retry, discard);
    retry.addEventListener("click", () => {
      entry.node.classList.remove("failed");
      label.textContent = "sending…";
      actions.remove();
      this.queue.push(clientId);
      this.flush();
    });
    discard.addEventListener("click", () => {
      this.pending.delete(clientId);
      entry.node.remove();
      if (!this.input.value.trim()) this.input.value = entry.body; // nothing typed is lost
      this.input.focus();
    });
    entry.node.append(actions);
  }
}
