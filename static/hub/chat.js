// Chat UI: the lobby on the home page and one room at /chat/<slug>/.
// User text is rendered with textContent only; never innerHTML with user content.

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MS = 6000; // a typing state ends by itself after 6 s

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

// Error messages from the server name payload fields (`name`); people know the form's labels.
const FIELD_LABELS = { "`name`": "The name", "`username`": "The username", "`members`": "Members", "`body`": "The message" };

function friendly(err) {
  let text = err.message || "That did not work.";
  for (const [field, label] of Object.entries(FIELD_LABELS)) text = text.replace(field, label);
  return text;
}

// ---------------------------------------------------------------- lobby

function initLobby(hub) {
  const list = document.getElementById("room-list");
  const rooms = new Map(); // slug -> ROOM

  function render() {
    const sorted = [...rooms.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    list.replaceChildren(...sorted.map((room) => {
      const badge = el("span", { className: "badge" }, String(room.unread),
        el("span", { className: "visually-hidden", textContent: " unread" }));
      badge.hidden = !room.unread;
      const link = el("a", { href: `/chat/${encodeURIComponent(room.slug)}/`, textContent: room.name });
      const kind = el("span", { className: "kind", textContent: room.kind === "direct" ? "direct message" : room.kind });
      const item = el("li", {}, link, kind, badge);
      item.dataset.slug = room.slug;
      return item;
    }));
  }

  const chat = hub.join("chat", {
    onJoin(data) {
      rooms.clear();
      for (const room of data.rooms) rooms.set(room.slug, room);
      render();
    },
    onEvent(event, payload) {
      if (event === "room") rooms.set(payload.room.slug, payload.room);
      if (event === "unread" && rooms.has(payload.room)) {
        Object.assign(rooms.get(payload.room), { unread: payload.unread, last_message_id: payload.last_message_id });
      }
      render();
    },
  });

  function dialog(openId, dialogId, formId, errorId, submit) {
    const box = document.getElementById(dialogId);
    const form = document.getElementById(formId);
    document.getElementById(openId).addEventListener("click", () => {
      form.reset(); // a fresh dialog each time: no old values or error
      document.getElementById(errorId).textContent = "";
      box.showModal();
    });
    box.querySelector("[data-close]").addEventListener("click", () => box.close());
    document.getElementById(formId).addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById(errorId);
      error.textContent = "";
      try {
        const data = await submit();
        box.close();
        location.assign(`/chat/${encodeURIComponent(data.room.slug)}/`);
      } catch (err) {
        error.textContent = friendly(err);
      }
    });
  }

  dialog("new-room-open", "new-room", "new-room-form", "new-room-error", () => chat.request("create", {
    name: document.getElementById("new-room-name").value,
    private: document.getElementById("new-room-private").checked,
    members: document.getElementById("new-room-members").value.split(",").map((s) => s.trim()).filter(Boolean),
  }));
  dialog("new-dm-open", "new-dm", "new-dm-form", "new-dm-error", () => chat.request("open_dm", {
    username: document.getElementById("new-dm-username").value.trim(),
  }));
}

// ---------------------------------------------------------------- room

function initRoom(hub, root) {
  const slug = root.dataset.slug;
  const me = root.dataset.me;
  const topic = `room:${slug}`;
  const list = document.getElementById("messages");
  const input = document.getElementById("composer-input");
  const errorBox = document.getElementById("composer-error");
  const typingLine = document.getElementById("typing");
  const messages = new Map(); // id -> MESSAGE
  const pending = new Map(); // client_id -> {body, node, sending}
  const typers = new Map(); // username -> {name, timer}
  let lastId = null;
  let oldestId = null;
  let loadingOlder = false;
  let noOlder = false;
  let rejoining = false; // the first join shows the room; later ones follow a reconnect

  function time(iso) {
    const when = new Date(iso);
    // Today: the time alone; earlier: with the day, so old messages are not ambiguous.
    const today = when.toDateString() === new Date().toDateString();
    const format = today ? { hour: "2-digit", minute: "2-digit" }
      : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    const node = el("time", { textContent: when.toLocaleString([], format) });
    node.dateTime = iso;
    node.title = when.toLocaleString();
    return node;
  }

  function messageNode(m) {
    const item = el("li", { className: m.deleted ? "deleted" : "" });
    item.dataset.id = m.id;
    item.append(el("span", { className: "author", textContent: m.author.display_name }), time(m.created_at));
    if (m.edited_at && !m.deleted) item.append(el("span", { className: "edited", textContent: "(edited)" }));
    item.append(el("span", { className: "body", textContent: m.deleted ? "message deleted" : m.body }));
    if (m.author.username === me && !m.deleted) {
      const edit = el("button", { type: "button", className: "secondary", textContent: "Edit" });
      edit.setAttribute("aria-label", "Edit message");
      edit.addEventListener("click", () => {
        const body = prompt("Edit message", m.body);
        if (body !== null) room.request("edit", { id: m.id, body }).catch(showError);
      });
      const del = el("button", { type: "button", className: "secondary", textContent: "Delete" });
      del.setAttribute("aria-label", "Delete message");
      del.addEventListener("click", () => {
        if (confirm("Delete this message?")) {
          room.request("delete", { id: m.id }).catch(showError);
          input.focus(); // the message's buttons go away with it
        }
      });
      item.append(el("span", { className: "actions" }, edit, del));
    }
    return item;
  }

  function upsert(m) {
    const known = messages.has(m.id);
    messages.set(m.id, m);
    if (m.client_id && pending.has(m.client_id)) {
      pending.get(m.client_id).node.remove();
      pending.delete(m.client_id);
    }
    if (lastId === null || m.id > lastId) lastId = m.id;
    if (oldestId === null || m.id < oldestId) oldestId = m.id;
    const node = messageNode(m);
    const existing = list.querySelector(`li[data-id="${m.id}"]`);
    if (existing) {
      existing.replaceWith(node);
      return;
    }
    if (known) return;
    // Keep id order: find the first rendered message with a larger id.
    const after = [...list.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > m.id);
    list.insertBefore(node, after || list.querySelector("li.pending"));
  }

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function addMessages(batch, { scroll = true } = {}) {
    const stick = atBottom();
    // A batch (the join, older history) is not news: keep screen readers from reading it out.
    const quiet = batch.length > 1;
    if (quiet) list.setAttribute("aria-live", "off");
    for (const m of batch) upsert(m);
    if (quiet) setTimeout(() => list.setAttribute("aria-live", "polite"), 500);
    if (scroll && stick) list.scrollTop = list.scrollHeight;
  }

  function markRead() {
    if (lastId !== null && document.visibilityState === "visible") room.request("read", { up_to: lastId }).catch(() => {});
  }

  function renderHere(present) {
    const here = document.getElementById("here-list");
    here.replaceChildren(...present.map((u) => {
      const item = el("li", { textContent: u.display_name });
      item.dataset.username = u.username;
      return item;
    }));
  }
  let present = new Map();

  function renderTyping() {
    const names = [...typers.values()].map((t) => t.name);
    typingLine.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
  }

  function showError(err) {
    errorBox.textContent = friendly(err);
  }

  const room = hub.join(topic, {
    payload: () => (lastId === null ? {} : { since: lastId }),
    onJoin(data) {
      if (data.more) { // too much missed: start over from the newest
        messages.clear();
        list.querySelectorAll("li[data-id]").forEach((li) => li.remove());
        lastId = null;
        oldestId = null;
        hub.rejoin(topic);
        return;
      }
      addMessages(data.messages);
      present = new Map(data.present.map((u) => [u.id, u]));
      renderHere([...present.values()]);
      markRead();
      // Back after a disconnect: `since` brought the new messages, but edits and deletes of
      // ones already shown happened meanwhile too. Refresh the latest shown ones.
      if (rejoining && lastId !== null) {
        room.request("history", { before: lastId + 1, limit: 100 })
          .then((recent) => addMessages(recent.messages, { scroll: false }))
          .catch(() => {});
      }
      rejoining = true;
    },
    onError(err) {
      showError(err);
    },
    onEvent(event, payload) {
      if (event === "message" || event === "edited" || event === "deleted") {
        addMessages([payload.message]);
        if (event === "message") markRead();
        if (event === "message" && typers.has(payload.message.author.username)) {
          clearTimeout(typers.get(payload.message.author.username).timer);
          typers.delete(payload.message.author.username);
          renderTyping();
        }
      } else if (event === "presence") {
        for (const u of payload.leaves || []) present.delete(u.id);
        for (const u of [...(payload.joins || []), ...(payload.updates || [])]) present.set(u.id, u);
        renderHere([...present.values()]);
      } else if (event === "typing") {
        const name = payload.user.username;
        if (typers.has(name)) clearTimeout(typers.get(name).timer);
        if (payload.typing) {
          const timer = setTimeout(() => { typers.delete(name); renderTyping(); }, TYPING_SHOW_MS);
          typers.set(name, { name: payload.user.display_name, timer });
        } else {
          typers.delete(name);
        }
        renderTyping();
      }
    },
  });

  // Sending: shown as pending at once, then sent one at a time in the order typed (so a
  // burst keeps its order and a rate limit is waited out once, not raced by every message),
  // retried with the same client_id until the server has it: stored once, never twice.
  const outbox = []; // client ids, oldest first
  let flushing = false;
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  function setPendingLabel(entry, text) {
    entry.node.querySelector(".edited").textContent = text;
  }

  function markFailed(clientId, entry, err) {
    entry.node.classList.add("failed");
    setPendingLabel(entry, `not sent: ${err.message || "refused"}`);
    const retry = el("button", { type: "button", className: "secondary", textContent: "Retry" });
    const discard = el("button", { type: "button", className: "secondary", textContent: "Discard" });
    retry.addEventListener("click", () => {
      entry.node.classList.remove("failed");
      setPendingLabel(entry, "sending…");
      actions.remove();
      outbox.push(clientId);
      flush();
    });
    discard.addEventListener("click", () => {
      pending.delete(clientId);
      entry.node.remove();
      if (!input.value.trim()) input.value = entry.body; // nothing typed is lost
      input.focus();
    });
    const actions = el("span", { className: "actions" }, retry, discard);
    entry.node.append(actions);
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      while (outbox.length) {
        const clientId = outbox[0];
        const entry = pending.get(clientId);
        if (!entry) { outbox.shift(); continue; }
        try {
          const data = await room.request("send", { body: entry.body, client_id: clientId });
          outbox.shift();
          upsert(data.message);
          errorBox.textContent = "";
        } catch (err) {
          if (err.code === "disconnected" || err.code === "timeout") return; // flushed again on "ready"
          if (err.code === "rate_limited") {
            errorBox.textContent = `Sending slowly to stay within the rate limit (${outbox.length} waiting).`;
            await sleep(Math.ceil((err.retryAfter || 1) * 1000));
            continue;
          }
          outbox.shift(); // refused for good (too long, no longer a member): say so, keep the rest going
          markFailed(clientId, entry, err);
          showError(err);
        }
      }
    } finally {
      flushing = false;
    }
  }

  hub.on("ready", () => flush());

  function send() {
    const body = input.value.trim();
    if (!body) return;
    input.value = "";
    stopTyping();
    const clientId = newClientId();
    const node = el("li", { className: "pending" },
      el("span", { className: "author", textContent: "You" }),
      el("span", { className: "edited", textContent: "sending…" }),
      el("span", { className: "body", textContent: body }));
    list.append(node);
    list.scrollTop = list.scrollHeight;
    pending.set(clientId, { body, node });
    outbox.push(clientId);
    flush();
  }

  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  let lastTypingSent = 0;
  let typingIdle = null;
  let typingOn = false;
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn) {
      typingOn = false;
      room.request("typing", { typing: false }).catch(() => {});
    }
  }
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (input.value.trim() && now - lastTypingSent > TYPING_SEND_EVERY_MS) {
      lastTypingSent = now;
      typingOn = true;
      room.request("typing", { typing: true }).catch(() => {});
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  // Scrolling to the top loads older messages.
  list.addEventListener("scroll", async () => {
    if (list.scrollTop > 20 || loadingOlder || noOlder || oldestId === null) return;
    loadingOlder = true;
    try {
      const before = list.scrollHeight;
      const data = await room.request("history", { before: oldestId, limit: 50 });
      if (data.messages.length === 0) noOlder = true;
      addMessages(data.messages, { scroll: false });
      list.scrollTop = list.scrollHeight - before;
    } catch (err) {
      showError(err);
    } finally {
      loadingOlder = false;
    }
  });
  document.addEventListener("visibilitychange", markRead);
}

export function init(hub) {
  if (document.getElementById("room-list")) initLobby(hub);
  const root = document.getElementById("room");
  if (root) initRoom(hub, root);
}
