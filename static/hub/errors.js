// What a failed request rejects with, and which failures can pass by themselves.

/** A failed request: `code` is the protocol's error code, or "disconnected" / "timeout". */
export class HubError extends Error {
  constructor({ code, message = "", retry_after: retryAfter }) {
    super(message || code);
    this.code = code;
    this.retryAfter = retryAfter; // seconds, on rate_limited
  }
}

// Worth trying again later: the server failed or was busy, or the reply never came. The
// others (forbidden, not_found, bad_request, unknown_topic, ...) answer the same every time.
const TRANSIENT = new Set(["internal", "timeout", "disconnected", "rate_limited"]);

export function isTransient(err) {
  return TRANSIENT.has(err.code);
}
