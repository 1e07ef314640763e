// One chat room (/chat/<slug>/): joins `room:<slug>`, resuming `since` the newest message
// shown, and wires its replies and pushes to the parts: the message list, the outbox, typing,
// history, "Here now" (the shared Presence helper, the sidebar's rule), "Seen by" receipts and
// the composer's @name completion.
import { el } from "../hub/dom.js";
import { Presence } from "../hub/presence.js";
import { friendly } from "./errors.js";
import { loadOlderOnScroll } from "./history.js";
import { MentionCompleter } from "./mentions.js";
import { MessageList } from "./messages.js";
import { Outbox } from "./outbox.js";
import { Receipts } from "./receipts.js";
import { Typists, TypingSender } from "./typing.js";

function renderHere(list, users) {
  list.replaceChildren(...users.map((user) => {
    const item = el("li", { textContent: user.display_name });
    item.dataset.username = user.username;
    return item;
  }));
}

function renderHereCount(list, count) {
  const item = el("li", { className: "here-count", textContent: `${count} people here` });
  list.replaceChildren(item);
}

/** Enter (without Shift, outside an IME composition) or the Send button sends; not an Enter the
 * @name completion took (it listens first and marks the key handled). */
function wireComposer(input, send) {
  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.defaultPrevented) {
      event.preventDefault();
      send();
    }
  });
}

/** The server took this socket out of the room (removed, or left from another tab): stop following it. */
function closeRoom(room, text) {
  room.leave();
  const notice = document.getElementById("room-notice");
  notice.textContent = text;
  notice.hidden = false;
  for (const control of document.querySelectorAll("#composer textarea, #composer button, #room-leave")) {
    control.disabled = true;
  }
}

/** "Leave room" (a direct room: "Hide conversation", from the lobby until a new message comes). */
function wireLeave(hub, slug) {
  const leave = document.getElementById("room-leave");
  leave.addEventListener("click", async () => {
    if (!confirm(`${leave.textContent}?`)) return;
    const chat = hub.channel("chat");
    try {
      if (!chat.joinedOnce) chat.join(); // the request waits for the join
      await chat.request("leave_room", { room: slug });
      location.assign("/");
    } catch (err) {
      document.getElementById("composer-error").textContent = friendly(err);
    }
  });
}

/** The room's mute control: no mention notifications and no lobby bump while muted (`mute`). */
function wireMute(room) {
  const select = document.getElementById("room-mute");
  const hours = { "1h": 1, "8h": 8 };
  const show = ({ muted, until }) => {
    select.value = !muted ? "on" : until === null ? "forever" : select.value === "on" ? "8h" : select.value;
    select.title = muted && until ? `Muted until ${new Date(until).toLocaleString()}` : "";
  };
  room.onJoin((data) => {
    select.disabled = false;
    show({ muted: data.room.muted, until: data.room.muted_until });
  });
  select.addEventListener("change", () => {
    const choice = select.value;
    const until = hours[choice] ? new Date(Date.now() + hours[choice] * 3600 * 1000).toISOString() : null;
    room.request("mute", { muted: choice !== "on", until }).then(show, (err) => {
      document.getElementById("composer-error").textContent = friendly(err);
    });
  });
}

export function init(hub) {
  const root = document.getElementById("room");
  if (!root) return;
  const input = document.getElementById("composer-input");
  const errorBox = document.getElementById("composer-error");
  const say = (text) => { errorBox.textContent = text; };
  const showError = (err) => say(friendly(err));
  const receipts = new Receipts(document.getElementById("messages"), root.dataset.me);
  const messages = new MessageList(document.getElementById("messages"), {
    me: root.dataset.me,
    edit: (m, body) => room.request("edit", { id: m.id, body }).catch(showError),
    remove: (m) => {
      room.request("delete", { id: m.id }).catch(showError);
      input.focus(); // the message's buttons go away with it
    },
    onStored: (m) => outbox.settle(m),
    onChange: () => receipts.render(),
  });
  const room = hub.channel(`room:${root.dataset.slug}`, {
    // Resume by position: the messages after the newest shown, and the edits and deletes made
    // meanwhile to those shown (docs/protocol.md, rooms).
    params: () => (messages.lastSeq === null ? {} : { since_seq: messages.lastSeq, since_change: messages.lastChange }),
  });
  const outbox = new Outbox({ channel: room, messages, input, say, showError });
  const typists = new Typists(document.getElementById("typing"));
  const typing = new TypingSender(room, input);
  const here = document.getElementById("here-list");
  new Presence(room, {
    diffEvent: "presence",
    fromJoin: (data) => ({ users: data.present, count: data.present_count, more: data.present_more }),
    // A large room is told as a count (HUB_PRESENCE_LIST_MAX): no names, "N people here".
    onSync: (users, presence) => (presence.more ? renderHereCount(here, presence.count) : renderHere(here, users)),
  });

  const markRead = () => {
    if (messages.lastId !== null && document.visibilityState === "visible") {
      room.request("read", { up_to: messages.lastId }).catch(() => {});
    }
  };
  room.onJoin((data) => {
    if (data.more) { // too much was missed: start over from the newest
      messages.clear();
      room.rejoin();
      return;
    }
    messages.noteChange(data.last_change);
    receipts.reset(data.read_markers);
    messages.add([...(data.changes || []), ...data.messages]);
    markRead();
    outbox.flush(); // what was typed while offline goes out now, in order
  });
  room.onError(showError);
  room.on("message", ({ message }) => {
    // A position more than one past the newest shown: something in between has not arrived
    // (pushes of two server processes can cross). Re-join to fetch the gap, in order.
    if (messages.lastSeq !== null && message.seq > messages.lastSeq + 1) {
      room.rejoin();
      return;
    }
    messages.add([message]);
    markRead();
    typists.stopped(message.author.username);
  });
  for (const event of ["edited", "deleted"]) room.on(event, ({ message }) => messages.add([message]));
  room.on("typing", (payload) => typists.update(payload));
  room.on("read", (payload) => receipts.read(payload));
  room.on("removed", () => closeRoom(room, "You are no longer a member of this room."));
  wireMute(room);
  room.join();
  wireLeave(hub, root.dataset.slug);

  new MentionCompleter(room, input, document.getElementById("mention-list")); // before wireComposer: Enter picks
  wireComposer(input, () => {
    const body = input.value.trim();
    if (!body) return;
    input.value = "";
    typing.stop();
    outbox.add(body);
  });
  loadOlderOnScroll(room, messages, showError);
  document.addEventListener("visibilitychange", markRead);
}
