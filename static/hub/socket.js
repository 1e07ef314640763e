// The tab's one WebSocket (Phoenix's socket.js): `hello`, heartbeats (`away` while the tab is
// hidden), requests matched to their replies by `ref`, reconnect with exponential backoff and
// full jitter, and the channels (channel.js) it routes pushes to and re-joins after every
// reconnect. It renders nothing: whoever wants to show the connection state listens with
// onState (status.js does).
import { backoffMs } from "./backoff.js";
import { Channel } from "./channel.js";
import { HubError } from "./errors.js";
import { Emitter } from "./events.js";

// Close codes (docs/protocol.md "Close codes").
export const CLOSE_SESSION_ENDED = 4401;
export const CLOSE_FLOODING = 4429;
// After 4429 (flooding, or too many tabs) the first retry waits at least this long.
const FLOOD_RETRY_FLOOR_MS = 10000;
const RECONNECT_BASE_MS = 500;
// The backoff starts over only once a connection has stayed up this long: a server that
// closes right after `hello` (overloaded, restarting, refusing this user) must not get a
// reconnect every half second forever. backoff.js caps each wait.
export const STABLE_AFTER_MS = 10000;
const MAX_ATTEMPT = 16; // 2^16 x 500 ms is far past the cap: counting further changes nothing
// When the outbox's resync marker moves (docs/protocol.md "Delivery"), channels re-join after a
// random wait below this, so a relay run does not bring every client back at the same moment.
export const RESYNC_SPREAD_MS = 5000;

export class HubSocket {
  constructor({ url = null, loginUrl = "/accounts/login/", timeoutMs = 20000 } = {}) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = url || `${scheme}://${location.host}/ws/`;
    this.loginUrl = loginUrl;
    this.timeoutMs = timeoutMs; // how long a request waits for its reply
    this.socket = null; // the WebSocket, while one is open or opening
    this.hello = null; // the server's `hello` payload, while open
    this.state = "idle";
    this.stopped = false; // true: no reconnect (signed out, or stopped from the console)
    this.attempt = 0; // reconnects since the last connection that stayed up STABLE_AFTER_MS
    this.nextRef = 1;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.subscriptions = new Map(); // topic -> Channel
    this.events = new Emitter(); // "state", "open", "close"
    this.heartbeatTimer = null;
    this.resyncMarker = null; // the first `resync` a heartbeat reply carried; a change means re-sync
    this.resyncTimer = null;
    document.addEventListener("visibilitychange", () => this.sendHeartbeat());
  }

  /** This tab's presence status: away while hidden. */
  get status() {
    return document.visibilityState === "hidden" ? "away" : "online";
  }

  /** True once `hello` arrived on an open socket: requests can go out. */
  get isOpen() {
    return this.hello !== null && this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  onState(fn) { return this.events.on("state", fn); }

  onOpen(fn) { return this.events.on("open", fn); }

  onClose(fn) { return this.events.on("close", fn); }

  /** The channel of `topic` (one per topic): see channel.js for its options. */
  channel(topic, options = {}) {
    if (!this.subscriptions.has(topic)) this.subscriptions.set(topic, new Channel(this, topic, options));
    return this.subscriptions.get(topic);
  }

  setState(state) {
    this.state = state;
    this.events.emit("state", state);
  }

  connect() {
    if (this.stopped || this.socket) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (frame.event === "reply") {
      this.settle(frame);
    } else if (frame.topic === "hub" && frame.event === "hello") {
      this.opened(frame.payload);
    } else {
      this.subscriptions.get(frame.topic)?.trigger(frame.event, frame.payload);
    }
  }

  /** A reply: resolve or reject the request with its ref. */
  settle(frame) {
    const request = frame.ref != null ? this.pending.get(frame.ref) : undefined;
    if (!request) {
      if (!frame.payload.ok) console.warn("hub error", frame.topic, frame.payload.error);
      return;
    }
    clearTimeout(request.timer);
    this.pending.delete(frame.ref);
    if (frame.payload.ok) request.resolve(frame.payload.data);
    else request.reject(new HubError(frame.payload.error));
  }

  opened(hello) {
    this.hello = hello;
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => { this.attempt = 0; }, STABLE_AFTER_MS);
    this.setState("connected");
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), (hello.heartbeat || 25) * 1000);
    if (this.status === "away") this.sendHeartbeat();
    for (const channel of this.subscriptions.values()) channel.socketOpened();
    this.events.emit("open", hello);
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.stableTimer);
    this.socket = null;
    this.hello = null;
    const gone = new HubError({ code: "disconnected", message: "The connection closed before a reply." });
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(gone);
    }
    this.pending.clear();
    for (const channel of this.subscriptions.values()) channel.socketClosed();
    this.events.emit("close", event);
    if (event.code === CLOSE_SESSION_ENDED) {
      this.stopped = true;
      this.setState("ended");
      location.assign(`${this.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
    } else if (this.stopped) {
      this.setState("idle");
    } else {
      this.setState("reconnecting");
      const floor = event.code === CLOSE_FLOODING ? FLOOD_RETRY_FLOOR_MS : 0;
      const delay = Math.max(floor, backoffMs(this.attempt, RECONNECT_BASE_MS));
      this.attempt = Math.min(this.attempt + 1, MAX_ATTEMPT);
      setTimeout(() => this.connect(), delay);
    }
  }

  sendHeartbeat() {
    if (!this.isOpen) return Promise.resolve(null);
    return this.request("hub", "heartbeat", { status: this.status })
      .then((data) => { this.noteResync(data.resync); return data; }, () => null);
  }

  /**
   * A heartbeat reply's resync marker: when it moves, the server relayed pushes late (they may
   * have come out of order, and unread counts with them), so every joined channel re-joins,
   * resuming by position (its params), after a random wait below RESYNC_SPREAD_MS.
   */
  noteResync(marker) {
    if (typeof marker !== "number") return;
    const previous = this.resyncMarker;
    this.resyncMarker = marker;
    if (previous === null || previous === marker || this.resyncTimer !== null) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      for (const channel of this.subscriptions.values()) if (channel.joined) channel.rejoin();
    }, Math.random() * RESYNC_SPREAD_MS);
  }

  /**
   * Send one event and resolve with the reply's data, or reject with a HubError. Only while
   * open ("disconnected" otherwise): channels hold their requests until they are joined.
   */
  request(topic, event, payload = {}) {
    if (!this.isOpen) {
      return Promise.reject(new HubError({ code: "disconnected", message: "Not connected." }));
    }
    const ref = String(this.nextRef++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new HubError({ code: "timeout", message: "No reply in time." }));
      }, this.timeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ topic, event, payload, ref }));
    });
  }
}
