// The collaborative editor (/docs/<id>/): a textarea bound to the Y.Text "content" of a Yjs document that is
// synced over `doc:<id>` (docs/protocol.md). Local edits become Yjs updates, merged and sent at most every
// SEND_EVERY_MS; remote updates are applied with the local selection kept where it was in the text (as
// relative positions, so a remote insert before it moves it along). Edits made while disconnected stay in
// the local document and are sent, merged, after the next join's sync. Other people's cursors and
// selections are drawn in their colours on a mirror of the textarea. Everything goes in as text.
import * as Y from "../vendor/yjs.js";
import { el } from "../hub/dom.js";

const SEND_EVERY_MS = 100; // under HUB_FRAME_RATE with the cursor moves, and under HUB_DOC_UPDATE_RATE
const CURSOR_EVERY_MS = 150; // at most 10 cursor moves a second are allowed
const CURSOR_REFRESH_MS = 20000; // the server forgets a cursor not refreshed for 60 s
const CURSOR_STALE_MS = 60000;
const LOCAL = "local";
const REMOTE = "remote";

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Where `before` and `after` differ, as [start, deleted, inserted text], the change placed at the caret. */
function textChange(before, after, caret) {
  const grown = Math.max(0, after.length - before.length);
  const limit = Math.min(before.length, after.length, Math.max(0, caret - grown));
  let start = 0;
  while (start < limit && before[start] === after[start]) start += 1;
  let end = 0;
  const room = Math.min(before.length, after.length) - start;
  while (end < room && before[before.length - 1 - end] === after[after.length - 1 - end]) end += 1;
  return [start, before.length - start - end, after.slice(start, after.length - end)];
}

function lineAndColumn(text, index) {
  const lines = text.slice(0, index).split("\n");
  return `line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

export function start(hub) {
  const root = document.getElementById("doc");
  if (!root) return;
  const textarea = root.querySelector("[data-doc-editor]");
  const overlay = document.getElementById("doc-overlay");
  const state = document.getElementById("doc-state");
  const people = document.getElementById("doc-people");
  const ydoc = new Y.Doc();
  const ytext = ydoc.getText("content");
  let role = root.dataset.role;
  let me = null; // my cursor's id and colour, from the join
  let joined = false;
  let dirty = false; // local changes the server may not have: sent as a diff after the next join
  let queued = []; // local updates not sent yet
  let sending = false;
  let sendTimer = null;
  let problem = null; // an edit the server refused for good: shown until the page is reloaded
  let shown = ""; // what the textarea shows: ytext's text as of the last sync between the two
  let selection = null; // the local selection as Yjs relative positions [anchor, head]
  const cursors = new Map(); // id -> {state, seen}

  const channel = hub.channel(`doc:${root.dataset.docId}`, {
    params: () => ({ state_vector: toBase64(Y.encodeStateVector(ydoc)) }),
  });

  function showState() {
    if (problem) state.textContent = problem;
    else if (!joined) state.textContent = dirty ? "Offline: your edits are kept here and sent when back" : "Connecting…";
    else if (role !== "editor") state.textContent = "View only";
    else state.textContent = queued.length || sending ? "Saving…" : "Saved";
    root.dataset.state = !joined ? "offline" : queued.length || sending ? "saving" : "saved";
  }

  // --- the textarea and the Y.Text

  function rememberSelection() {
    const { selectionStart, selectionEnd, selectionDirection } = textarea;
    const [anchor, head] = selectionDirection === "backward" ? [selectionEnd, selectionStart] : [selectionStart, selectionEnd];
    // Tied to the character before each end (assoc -1): text someone else inserts at the very same
    // place goes after the caret's own typing, never into the middle of it.
    selection = [anchor, head].map((i) => Y.createRelativePositionFromTypeIndex(ytext, i, -1));
    scheduleCursor();
  }

  function absolute(relative) {
    const position = relative && Y.createAbsolutePositionFromRelativePosition(relative, ydoc);
    return position && position.type === ytext ? position.index : null;
  }

  textarea.addEventListener("input", () => {
    if (role !== "editor" || problem) {
      textarea.value = shown; // nothing local may diverge from the shared text
      return;
    }
    const [start, removed, inserted] = textChange(shown, textarea.value, textarea.selectionEnd);
    ydoc.transact(() => {
      if (removed) ytext.delete(start, removed);
      if (inserted) ytext.insert(start, inserted);
    }, LOCAL);
    shown = textarea.value;
    rememberSelection();
  });
  for (const event of ["select", "keyup", "mouseup", "focus"]) textarea.addEventListener(event, rememberSelection);
  textarea.addEventListener("scroll", () => { overlay.scrollTop = textarea.scrollTop; });

  ytext.observe((event) => {
    if (event.transaction.origin === LOCAL) return;
    const focused = document.activeElement === textarea;
    const [anchor, head] = selection ? selection.map(absolute) : [null, null];
    shown = ytext.toString();
    textarea.value = shown;
    if (focused && anchor !== null && head !== null) {
      textarea.setSelectionRange(Math.min(anchor, head), Math.max(anchor, head), anchor > head ? "backward" : "forward");
    }
    drawCursors();
  });

  // --- sending local updates

  ydoc.on("update", (update, origin) => {
    if (origin === REMOTE) return;
    dirty = true;
    queued.push(update);
    if (!sendTimer) sendTimer = setTimeout(flush, SEND_EVERY_MS);
    showState();
  });

  function flush() {
    sendTimer = null;
    if (sending || !joined || !queued.length || problem) return;
    const update = queued.length === 1 ? queued[0] : Y.mergeUpdates(queued);
    queued = [];
    sending = true;
    showState();
    channel.request("update", { update: toBase64(update) }).then(
      () => {
        sending = false;
        if (!queued.length) dirty = false;
        if (queued.length && !sendTimer) sendTimer = setTimeout(flush, SEND_EVERY_MS);
        showState();
      },
      (err) => {
        sending = false;
        if (err.code === "rate_limited") {
          queued.unshift(update);
          sendTimer = setTimeout(flush, Math.max(SEND_EVERY_MS, (err.retryAfter || 1) * 1000));
        } else if (err.code === "forbidden") {
          role = "viewer";
          problem = "You may no longer edit: your last edits were not saved. Reload the page to see the saved text.";
          textarea.readOnly = true;
        } else if (err.code === "too_large" || err.code === "bad_request") {
          problem = `Not saved: ${err.message} Reload the page to see the saved text.`;
          textarea.readOnly = true;
        }
        // Anything else (disconnected, timeout): the next join's sync sends what the server lacks.
        showState();
      },
    );
  }

  // --- joining: the Yjs sync in both directions

  channel.onJoin((data) => {
    joined = true;
    role = data.role;
    me = data.me;
    textarea.readOnly = role !== "editor" || Boolean(problem);
    textarea.placeholder = role === "editor" ? "Type here…" : "";
    Y.applyUpdate(ydoc, fromBase64(data.update), REMOTE);
    if (ytext.toString() !== shown) { // the first join, when the observer had nothing to keep
      shown = ytext.toString();
      textarea.value = shown;
    }
    cursors.clear();
    for (const other of data.awareness) cursors.set(other.id, { state: other, seen: Date.now() });
    if (dirty && role === "editor" && !problem) {
      // What the server lacks of this document (edits made offline), as one update.
      queued = [Y.encodeStateAsUpdate(ydoc, fromBase64(data.state_vector))];
    }
    flush();
    sendCursor();
    drawCursors();
    showState();
  });
  channel.on("update", (payload) => {
    if (me && payload.from === me.id) return; // my own, already applied
    Y.applyUpdate(ydoc, fromBase64(payload.update), REMOTE);
    // An update that needs one this client never got (missed while a push was lost): sync again.
    if (ydoc.store.pendingStructs || ydoc.store.pendingDs) channel.rejoin();
  });
  channel.on("access", (payload) => {
    role = payload.role;
    textarea.readOnly = role !== "editor" || Boolean(problem);
    showState();
  });
  channel.on("removed", (payload) => {
    joined = false;
    problem = payload.reason === "deleted" ? "This document was deleted." : "You may no longer open this document.";
    textarea.readOnly = true;
    showState();
  });
  channel.onError((err) => {
    problem = `Refused: ${err.message}`;
    showState();
  });
  hub.onClose(() => {
    joined = false;
    showState();
  });

  // --- cursors: mine sent, everyone else's drawn

  let cursorTimer = null;
  let cursorSentAt = 0;
  function scheduleCursor() {
    if (cursorTimer) return;
    cursorTimer = setTimeout(sendCursor, Math.max(0, cursorSentAt + CURSOR_EVERY_MS - Date.now()));
  }
  function sendCursor() {
    clearTimeout(cursorTimer);
    cursorTimer = null;
    if (!joined || !selection) return;
    cursorSentAt = Date.now();
    const [anchor, head] = selection.map((p) => toBase64(Y.encodeRelativePosition(p)));
    channel.request("awareness", { anchor, head }).catch(() => {});
  }
  setInterval(() => {
    if (joined && Date.now() - cursorSentAt >= CURSOR_REFRESH_MS) sendCursor();
    for (const [id, cursor] of cursors) if (Date.now() - cursor.seen > CURSOR_STALE_MS) cursors.delete(id);
  }, 5000);

  channel.on("awareness", (payload) => {
    if (me && payload.id === me.id) return;
    if (payload.gone) cursors.delete(payload.id);
    else cursors.set(payload.id, { state: payload, seen: Date.now() });
    drawCursors();
  });

  function positionOf(text) {
    try {
      return text ? absolute(Y.decodeRelativePosition(fromBase64(text))) : null;
    } catch {
      return null; // not a position of this document: not drawn
    }
  }

  function drawCursors() {
    const text = shown;
    const marks = [];
    people.replaceChildren();
    for (const { state: other } of cursors.values()) {
      const head = positionOf(other.head);
      const anchor = positionOf(other.anchor);
      const where = head === null ? "" : ` (${lineAndColumn(text, head)})`;
      const chip = el("span", { className: "doc-chip" });
      chip.style.background = other.color;
      const item = el("li", {}, chip, el("span", { textContent: `${other.user.username}${where}` }));
      item.dataset.username = other.user.username;
      people.append(item);
      if (head === null) continue;
      if (anchor !== null && anchor !== head) marks.push({ at: Math.min(anchor, head), end: Math.max(anchor, head), other });
      marks.push({ at: head, other, caret: true });
    }
    // The mirror: the same text, transparent, with a caret (and selection) per person at their place.
    const ends = marks.flatMap((m) => (m.caret ? [m.at] : [m.at, m.end]));
    const points = [...new Set([...ends, text.length])].sort((a, b) => a - b);
    const pieces = [];
    let from = 0;
    const selections = marks.filter((m) => !m.caret);
    for (const point of points) {
      if (point > from) {
        const chunk = el("span", { textContent: text.slice(from, point) });
        const covering = selections.find((m) => m.at <= from && m.end >= point);
        if (covering) {
          chunk.className = "doc-selection";
          chunk.style.background = `${covering.other.color}33`;
        }
        pieces.push(chunk);
        from = point;
      }
      for (const mark of marks.filter((m) => m.caret && m.at === point)) {
        const caret = el("span", { className: "doc-caret" }, el("span", { className: "doc-caret-label", textContent: mark.other.user.username }));
        caret.style.borderColor = mark.other.color;
        caret.querySelector(".doc-caret-label").style.background = mark.other.color;
        caret.dataset.username = mark.other.user.username;
        pieces.push(caret);
      }
    }
    pieces.push(el("span", { textContent: "\u200b" })); // a last empty line keeps its height
    overlay.replaceChildren(...pieces);
    overlay.scrollTop = textarea.scrollTop;
  }

  showState();
  channel.join().catch(() => {});
  window.hubDoc = { ydoc, ytext }; // for the console and the browser tests
}
