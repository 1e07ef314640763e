// Hub browser client: one socket per tab, requests matched by `ref`, topic subscriptions
// that re-join after a reconnect, heartbeats (`away` while the tab is hidden), and
// reconnect with exponential backoff and full jitter. No build step: an ES module.

const CLOSE_SESSION_ENDED = 4401;
const CLOSE_FLOODING = 4429;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const REQUEST_TIMEOUT_MS = 20000;

export class HubError extends Error {
  constructor(error) {
    super(error.message || error.code);
    this.code = error.code;
    this.retryAfter = error.retry_after;
  }
}

export class Hub {
  constructor({ url, loginUrl = "/accounts/login/", onState = () => {} } = {}) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = url || `${scheme}://${location.host}/ws/`;
    this.loginUrl = loginUrl;
    this.onState = onState;
    this.socket = null;
    this.state = "idle";
    this.hello = null;
    this.nextRef = 1;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.queue = []; // frames waiting for an open socket
    this.subscriptions = new Map(); // topic -> {options, joined}
    this.listeners = new Map(); // "hello" etc. -> Set(callback)
    this.attempt = 0;
    this.stopped = false;
    this.heartbeatTimer = null;
    document.addEventListener("visibilitychange", () => this.sendHeartbeat());
  }

  get status() {
    return document.visibilityState === "hidden" ? "away" : "online";
  }

  on(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(callback);
    return () => this.listeners.get(name).delete(callback);
  }

  emit(name, ...args) {
    for (const callback of this.listeners.get(name) || []) {
      try { callback(...args); } catch (err) { console.error(err); }
    }
  }

  setState(state) {
    this.state = state;
    this.onState(state);
    this.emit("state", state);
  }

  connect() {
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (frame.event === "reply" && frame.ref != null && this.pending.has(frame.ref)) {
      const { resolve, reject, timer } = this.pending.get(frame.ref);
      clearTimeout(timer);
      this.pending.delete(frame.ref);
      if (frame.payload.ok) resolve(frame.payload.data);
      else reject(new HubError(frame.payload.error));
      return;
    }
    if (frame.topic === "hub" && frame.event === "hello") {
      this.opened(frame.payload);
      return;
    }
    if (frame.event === "reply") {
      if (!frame.payload.ok) console.warn("hub error", frame.topic, frame.payload.error);
      return;
    }
    const sub = this.subscriptions.get(frame.topic);
    if (sub && sub.options.onEvent) {
      try { sub.options.onEvent(frame.event, frame.payload); } catch (err) { console.error(err); }
    }
  }

  async opened(hello) {
    this.hello = hello;
    this.attempt = 0;
    this.setState("connected");
    this.emit("hello", hello);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), (hello.heartbeat || 25) * 1000);
    if (this.status === "away") this.sendHeartbeat();
    await Promise.all([...this.subscriptions.keys()].map((topic) => this.rejoin(topic)));
    const queued = this.queue.splice(0);
    for (const frame of queued) this.socket.send(JSON.stringify(frame));
    this.emit("ready"); // joined again: safe to retry what failed while disconnected
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    clearInterval(this.heartbeatTimer);
    this.socket = null;
    this.hello = null;
    for (const [ref, { reject, timer }] of this.pending) {
      clearTimeout(timer);
      reject(new HubError({ code: "disconnected", message: "The connection closed before a reply." }));
      this.pending.delete(ref);
    }
    for (const sub of this.subscriptions.values()) sub.joined = false;
    if (event.code === CLOSE_SESSION_ENDED) {
      this.stopped = true;
      this.setState("ended");
      location.assign(`${this.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (this.stopped) {
      this.setState("idle");
      return;
    }
    this.setState("reconnecting");
    // Flooding or too many tabs: wait longer than the usual first retry.
    const floor = event.code === CLOSE_FLOODING ? 10000 : 0;
    const delay = Math.max(floor, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt));
    this.attempt += 1;
    setTimeout(() => this.connect(), delay);
  }

  sendHeartbeat() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.hello) {
      this.request("hub", "heartbeat", { status: this.status }).catch(() => {});
    }
  }

  /** Send an event and resolve with the reply's data (reject with HubError). Queued while offline. */
  request(topic, event, payload = {}) {
    const ref = String(this.nextRef++);
    const frame = { topic, event, payload, ref };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new HubError({ code: "timeout", message: "No reply in time." }));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
      if (this.socket && this.socket.readyState === WebSocket.OPEN && this.hello) {
        this.socket.send(JSON.stringify(frame));
      } else {
        this.queue.push(frame);
      }
    });
  }

  /**
   * Join a topic and stay joined across reconnects.
   * options: {onEvent(event, payload), onJoin(data), payload() -> join payload (e.g. {since})}
   */
  join(topic, options = {}) {
    const sub = { options, joined: false };
    this.subscriptions.set(topic, sub);
    const joined = this.socket && this.socket.readyState === WebSocket.OPEN && this.hello
      ? this.rejoin(topic)
      : new Promise((resolve) => {
        sub.firstJoin = resolve;
      });
    return {
      topic,
      joined,
      request: (event, payload) => this.request(topic, event, payload),
      leave: () => this.leave(topic),
    };
  }

  async rejoin(topic) {
    const sub = this.subscriptions.get(topic);
    if (!sub) return null;
    const payload = sub.options.payload ? sub.options.payload() : (sub.options.since != null ? { since: sub.options.since } : {});
    try {
      const data = await this.request(topic, "join", payload);
      sub.joined = true;
      if (sub.options.onJoin) sub.options.onJoin(data);
      if (sub.firstJoin) { sub.firstJoin(data); sub.firstJoin = null; }
      return data;
    } catch (err) {
      if (sub.options.onError) sub.options.onError(err);
      else console.warn("join failed", topic, err);
      return null;
    }
  }

  leave(topic) {
    this.subscriptions.delete(topic);
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      return this.request(topic, "leave", {}).catch(() => {});
    }
    return Promise.resolve();
  }
}

/** The page's one Hub, created on first use. */
let shared = null;
export function getHub() {
  if (!shared) {
    shared = new Hub({ onState: renderState });
    shared.connect();
  }
  return shared;
}

const STATE_LABELS = {
  idle: "Offline",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  ended: "Signed out",
};

function renderState(state) {
  const el = document.getElementById("hub-status");
  if (!el) return;
  el.dataset.state = state;
  el.textContent = STATE_LABELS[state] || state;
}
