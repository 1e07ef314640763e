// The lobby on the home page: the user's rooms with live unread badges (`chat` topic), and the
// "New room" and "New message" dialogs. Names go in with textContent only.
import { el } from "../hub/dom.js";
import { friendly } from "./errors.js";

const roomUrl = (slug) => `/chat/${encodeURIComponent(slug)}/`;

function roomItem(room) {
  const badge = el("span", { className: "badge" }, String(room.unread),
    el("span", { className: "visually-hidden", textContent: " unread" }));
  badge.hidden = !room.unread;
  const link = el("a", { href: roomUrl(room.slug), textContent: room.name });
  const kind = el("span", { className: "kind", textContent: room.kind === "direct" ? "direct message" : room.kind });
  const item = el("li", {}, link, kind, badge);
  if (room.muted) { // the count still shows, quietly; it does not go up live
    badge.classList.add("muted");
    item.append(el("span", { className: "kind muted-label", textContent: "muted" }));
  }
  item.dataset.slug = room.slug;
  item.dataset.muted = room.muted ? "true" : "false";
  return item;
}

/** A dialog opened by a button, fresh each time; submit() resolves with {room} to go to. */
function dialog(name, submit) {
  const box = document.getElementById(name);
  const form = document.getElementById(`${name}-form`);
  const error = document.getElementById(`${name}-error`);
  document.getElementById(`${name}-open`).addEventListener("click", () => {
    form.reset(); // no old values or error
    error.textContent = "";
    box.showModal();
  });
  box.querySelector("[data-close]").addEventListener("click", () => box.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const data = await submit();
      box.close();
      location.assign(roomUrl(data.room.slug));
    } catch (err) {
      error.textContent = friendly(err);
    }
  });
}

export function init(hub) {
  const list = document.getElementById("room-list");
  if (!list) return;
  const rooms = new Map(); // slug -> ROOM
  const render = () => {
    const sorted = [...rooms.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    list.replaceChildren(...sorted.map(roomItem));
  };
  const chat = hub.channel("chat");
  chat.onJoin((data) => {
    rooms.clear();
    for (const room of data.rooms) rooms.set(room.slug, room);
    render();
  });
  chat.on("room", ({ room }) => {
    rooms.set(room.slug, room);
    render();
  });
  chat.on("removed", ({ room }) => { // left, removed, or a conversation hidden
    rooms.delete(room);
    render();
  });
  chat.on("unread", ({ room, unread, last_message_id: lastMessageId }) => {
    if (rooms.has(room)) Object.assign(rooms.get(room), { unread, last_message_id: lastMessageId });
    render();
  });
  chat.join();

  const value = (id) => document.getElementById(id).value;
  dialog("new-room", () => chat.request("create", {
    name: value("new-room-name"),
    private: document.getElementById("new-room-private").checked,
    members: value("new-room-members").split(",").map((s) => s.trim()).filter(Boolean),
  }));
  dialog("new-dm", () => chat.request("open_dm", { username: value("new-dm-username").trim() }));
}
