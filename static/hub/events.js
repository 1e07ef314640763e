// Named callbacks for the socket and its channels: `on(name, fn)` returns the function that
// removes it. A callback that throws is logged and the others still run, so one broken
// feature cannot stop the socket from serving the rest of the page.

export class Emitter {
  constructor() {
    this.callbacks = new Map(); // name -> Set(fn)
  }

  on(name, fn) {
    if (!this.callbacks.has(name)) this.callbacks.set(name, new Set());
    this.callbacks.get(name).add(fn);
    return () => this.callbacks.get(name).delete(fn);
  }

  emit(name, ...args) {
    for (const fn of this.callbacks.get(name) || []) {
      try { fn(...args); } catch (err) { console.error(err); }
    }
  }
}
