// How long to wait before trying again, for reconnects and re-joins alike.

const CAP_MS = 30000;

/**
 * Exponential backoff with full jitter: a random wait below min(cap, base * 2^attempt).
 * The randomness spreads a crowd of clients that failed at the same moment (a server
 * restart) over the whole window instead of bringing them back together.
 */
export function backoffMs(attempt, baseMs) {
  return Math.random() * Math.min(CAP_MS, baseMs * 2 ** attempt);
}
