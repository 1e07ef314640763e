// The "Online" sidebar: everyone online or away on the site, sorted by name, kept live from
// `presence` diffs through the shared Presence helper. Names go in with textContent only.
import { el } from "../hub/dom.js";
import { Presence } from "../hub/presence.js";

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

export function init(hub) {
  const list = document.getElementById("presence-list");
  if (!list) return;
  const count = document.getElementById("presence-count");
  const channel = hub.channel("presence");
  new Presence(channel, {
    diffEvent: "diff",
    fromJoin: (data) => data.users,
    onSync(people) {
      people.sort((a, b) => a.display_name.localeCompare(b.display_name));
      list.replaceChildren(...people.map(personItem));
      count.textContent = String(people.length);
    },
  });
  channel.join();
}
