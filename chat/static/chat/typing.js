// Typing, both ways. The server keeps no typing timer (docs/protocol.md): a typing state shows
// until 6 s after the last `typing: true` seen for that user, or until their message arrives;
// the composer sends `typing: true` every few seconds while its user types, and `false` after
// 3 s idle or on send.

const SEND_EVERY_MS = 2000;
const IDLE_MS = 3000;
const SHOW_MS = 6000;

/** "ann is typing…" for the others in the room. */
export class Typists {
  constructor(line) {
    this.line = line;
    this.typing = new Map(); // username -> {name, timer}
  }

  /** Push `typing`: {user, typing}. */
  update({ user, typing }) {
    this.forget(user.username);
    if (typing) {
      const timer = setTimeout(() => { this.forget(user.username); this.render(); }, SHOW_MS);
      this.typing.set(user.username, { name: user.display_name, timer });
    }
    this.render();
  }

  /** Their message arrived: they are done typing it. */
  stopped(username) {
    if (!this.typing.has(username)) return;
    this.forget(username);
    this.render();
  }

  forget(username) {
    clearTimeout(this.typing.get(username)?.timer);
    this.typing.delete(username);
  }

  render() {
    const names = [...this.typing.values()].map((t) => t.name);
    this.line.textContent = names.length === 0 ? ""
      : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
  }
}

/** The composer's side: tells the room while its user types. */
export class TypingSender {
  constructor(channel, input) {
    this.channel = channel;
    this.lastSent = 0;
    this.idle = null;
    this.on = false;
    input.addEventListener("input", () => {
      const now = Date.now();
      if (input.value.trim() && now - this.lastSent > SEND_EVERY_MS) {
        this.lastSent = now;
        this.on = true;
        channel.request("typing", { typing: true }).catch(() => {});
      }
      clearTimeout(this.idle);
      this.idle = setTimeout(() => this.stop(), IDLE_MS);
    });
  }

  /** Idle or sent: stop showing as typing. */
  stop() {
    clearTimeout(this.idle);
    if (!this.on) return;
    this.on = false;
    this.channel.request("typing", { typing: false }).catch(() => {});
  }
}
