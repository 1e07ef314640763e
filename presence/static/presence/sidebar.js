// The "Online" sidebar: everyone online or away on the site, sorted by name, kept live from
// `presence` diffs through the shared Presence helper. Names go in with textContent only.
//
// On a large site (the join answers `more`) it shows "N online" and the people it watches:
// everyone named on the page (elements with data-username: message authors, a room's "Here
// now"), at most 200, sent as `watch` whenever that list changes.
import { el } from "../hub/dom.js";
import { Presence } from "../hub/presence.js";

const WATCH_MAX = 200; // the server's limit for one `watch`
const WATCH_SETTLE_MS = 500; // a page that renders many names at once sends one `watch`

function personItem(person) {
  const dot = el("span", { className: "status-dot" });
  dot.dataset.status = person.status;
  dot.setAttribute("aria-hidden", "true");
  const item = el("li", {}, dot,
    el("span", { className: "name", textContent: person.display_name }),
    el("span", { className: "status-text", textContent: person.status }));
  item.dataset.username = person.username;
  item.dataset.status = person.status;
  item.setAttribute("aria-label", `${person.display_name} (${person.status})`);
  return item;
}

/** The usernames shown on the page outside this sidebar, sorted, at most WATCH_MAX. */
function namesOnPage(sidebar) {
  const names = new Set();
  for (const node of document.querySelectorAll("[data-username]")) {
    if (sidebar.contains(node)) continue;
    names.add(node.dataset.username);
    if (names.size >= WATCH_MAX) break;
  }
  return [...names].sort();
}

export function init(hub) {
  const list = document.getElementById("presence-list");
  if (!list) return;
  const sidebar = list.closest("aside") || list;
  const count = document.getElementById("presence-count");
  const channel = hub.channel("presence");
  let watched = new Set(); // usernames, lower case
  let sent = null; // the list last sent as `watch` (joined), null after a join

  const render = (people, presence) => {
    const shown = presence.more ? people.filter((p) => watched.has(p.username.toLowerCase())) : people;
    shown.sort((a, b) => a.display_name.localeCompare(b.display_name));
    list.replaceChildren(...shown.map(personItem));
    count.textContent = String(presence.more ? presence.count : people.length);
    sidebar.dataset.large = presence.more ? "true" : "false";
  };
  const presence = new Presence(channel, {
    diffEvent: "diff",
    fromJoin: (data) => data,
    onSync(people, p) {
      if (!p.more) sent = null;
      else if (sent === null) sendWatch(); // a fresh view of a large set: say who to keep
      render(people, p);
    },
  });

  function sendWatch() {
    const names = namesOnPage(sidebar);
    const key = names.join("\n");
    if (key === sent || !presence.more || !channel.joined) return;
    sent = key;
    watched = new Set(names.map((name) => name.toLowerCase()));
    channel.request("watch", { users: names }).then((data) => {
      presence.set(data.users);
      presence.sync();
    }).catch(() => { sent = null; }); // tried again on the next change or join
  }

  let timer = null;
  new MutationObserver(() => {
    if (!presence.more) return;
    clearTimeout(timer);
    timer = setTimeout(sendWatch, WATCH_SETTLE_MS);
  }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-username"] });
  channel.join();
}
