// One topic on the socket (Phoenix's channel.js): a join payload function (e.g. `since` the
// newest id shown), `on(event, fn)` bindings for pushes, requests held until the channel is
// joined, and re-joins: after every reconnect, on `rejoin()`, and, after a failed join that can
// pass (internal, timeout, rate_limited: no sooner than its retry_after), with backoff. A join
// refused for good (forbidden, not_found, bad_request, unknown_topic) goes to the onError
// callbacks and stays refused, reconnects included, until someone calls rejoin(): asking
// again could only get the same answer and would count toward the server's flood limit.
import { backoffMs } from "./backoff.js";
import { HubError, isTransient } from "./errors.js";
import { Emitter } from "./events.js";

const REJOIN_BASE_MS = 1000;

export class Channel {
  /** Made by socket.channel(topic, {params}); `params()` returns the join payload. */
  constructor(socket, topic, { params = () => ({}) } = {}) {
    this.socket = socket;
    this.topic = topic;
    this.params = params;
    // closed (no join under way) | joining | joined | errored (a re-join is scheduled)
    // | refused (permanently: waits for rejoin()) | left
    this.state = "closed";
    this.joinedOnce = false; // join() was called: join whenever the socket opens
    this.joinRef = 0; // the join attempt under way; replies to older ones are ignored
    this.failures = 0; // failed joins in a row, for the backoff
    this.retryTimer = null;
    this.refusal = null; // the error of a permanent refusal
    this.buffer = []; // requests made while not joined: {event, payload, resolve, reject, timer}
    this.waiters = []; // promises of join() and rejoin(): {resolve, reject}
    this.bindings = new Emitter(); // pushes, by event
    this.hooks = new Emitter(); // "join" (reply data), "error" (HubError)
  }

  get joined() {
    return this.state === "joined";
  }

  /** Call fn(payload) on every push `event`; returns the function that stops it. */
  on(event, fn) { return this.bindings.on(event, fn); }

  /** Call fn(data) on every successful join: the first, and each re-join. */
  onJoin(fn) { return this.hooks.on("join", fn); }

  /** Call fn(err) when a join is refused for good. */
  onError(fn) { return this.hooks.on("error", fn); }

  trigger(event, payload) {
    this.bindings.emit(event, payload);
  }

  /** Start following the topic (once per channel); resolves with the first join's data. */
  join() {
    if (this.joinedOnce) throw new Error(`${this.topic}: join() was already called; use rejoin()`);
    return this.rejoin();
  }

  /**
   * Join again now, with a fresh join payload (after a reply that said `more`, or to retry
   * a refused join); resolves with the next successful join's data, rejects on a refusal.
   */
  rejoin() {
    if (this.state === "left") throw new Error(`${this.topic}: left; hub.channel(topic) makes a new channel`);
    const promise = new Promise((resolve, reject) => { this.waiters.push({ resolve, reject }); });
    promise.catch(() => {}); // a refusal reaches onError: no "uncaught" noise for callers that do not wait
    this.joinedOnce = true;
    this.refusal = null;
    clearTimeout(this.retryTimer);
    if (this.socket.isOpen) this.sendJoin();
    else this.state = "closed"; // socketOpened() joins
    return promise;
  }

  /**
   * Send `event` on this topic; resolves with the reply's data. Held while the channel is not
   * joined (reconnecting, re-joining) and sent once it is; times out like any request.
   */
  request(event, payload = {}) {
    if (this.refusal) return Promise.reject(this.refusal);
    return new Promise((resolve, reject) => {
      const request = { event, payload, resolve, reject, timer: null };
      if (this.joined) {
        this.send(request);
        return;
      }
      request.timer = setTimeout(() => {
        this.buffer = this.buffer.filter((held) => held !== request);
        reject(new HubError({ code: "timeout", message: "No reply in time." }));
      }, this.socket.timeoutMs);
      this.buffer.push(request);
    });
  }

  /** Stop following the topic. */
  leave() {
    this.state = "left";
    this.joinedOnce = false;
    this.joinRef += 1;
    clearTimeout(this.retryTimer);
    this.socket.subscriptions.delete(this.topic);
    this.dropBuffer(new HubError({ code: "not_joined", message: `Left ${this.topic}.` }));
    return this.socket.request(this.topic, "leave", {}).catch(() => {});
  }

  send({ event, payload, resolve, reject, timer }) {
    clearTimeout(timer);
    this.socket.request(this.topic, event, payload).then(resolve, reject);
  }

  dropBuffer(err) {
    for (const { reject, timer } of this.buffer.splice(0)) {
      clearTimeout(timer);
      reject(err);
    }
  }

  sendJoin() {
    const ref = ++this.joinRef;
    this.state = "joining";
    this.socket.request(this.topic, "join", this.params()).then(
      (data) => { if (ref === this.joinRef) this.joinSucceeded(data); },
      (err) => { if (ref === this.joinRef) this.joinFailed(err); },
    );
  }

  joinSucceeded(data) {
    // Taken first: an onJoin callback may call rejoin(), whose promise wants the next join.
    const waiters = this.waiters.splice(0);
    this.state = "joined";
    this.failures = 0;
    for (const request of this.buffer.splice(0)) this.send(request);
    this.hooks.emit("join", data);
    for (const { resolve } of waiters) resolve(data);
  }

  joinFailed(err) {
    if (!isTransient(err)) {
      this.state = "refused";
      this.refusal = err;
      this.dropBuffer(err);
      this.hooks.emit("error", err);
      for (const { reject } of this.waiters.splice(0)) reject(err);
      return;
    }
    // Closed under the join: socketClosed() took care of it, and the reconnect re-joins.
    if (err.code === "disconnected") return;
    this.state = "errored";
    const delay = Math.max((err.retryAfter || 0) * 1000, backoffMs(this.failures, REJOIN_BASE_MS));
    this.failures += 1;
    console.warn(`join ${this.topic} failed (${err.code}): trying again in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => { if (this.socket.isOpen) this.sendJoin(); }, delay);
  }

  /** The socket said hello (again): join if this channel should be joined. */
  socketOpened() {
    clearTimeout(this.retryTimer);
    if (this.joinedOnce && (this.state === "closed" || this.state === "errored")) this.sendJoin();
  }

  /** The socket closed: whatever join was under way is void; the next hello re-joins. */
  socketClosed() {
    clearTimeout(this.retryTimer);
    this.joinRef += 1;
    if (this.state !== "refused" && this.state !== "left") this.state = "closed";
  }
}
