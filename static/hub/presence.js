// The "Online" sidebar: joins `presence` and keeps the list live from diffs.
// Names are rendered with textContent only.

const people = new Map(); // user id -> PRESENCE

function render() {
  const list = document.getElementById("presence-list");
  const count = document.getElementById("presence-count");
  if (!list) return;
  const entries = [...people.values()].sort((a, b) => a.display_name.localeCompare(b.display_name));
  list.replaceChildren(...entries.map((person) => {
    const item = document.createElement("li");
    item.dataset.username = person.username;
    item.dataset.status = person.status;
    item.setAttribute("aria-label", `${person.display_name} (${person.status})`);
    const dot = document.createElement("span");
    dot.className = "status-dot";
    dot.dataset.status = person.status;
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = person.display_name;
    const status = document.createElement("span");
    status.className = "status-text";
    status.textContent = person.status;
    item.append(dot, name, status);
    return item;
  }));
  count.textContent = String(entries.length);
}

function applyDiff(diff) {
  for (const person of diff.leaves || []) people.delete(person.id);
  for (const person of [...(diff.joins || []), ...(diff.updates || [])]) {
    if (person.status === "offline") people.delete(person.id);
    else people.set(person.id, person);
  }
  render();
}

export function init(hub) {
  if (!document.getElementById("presence-list")) return;
  hub.join("presence", {
    onJoin(data) {
      people.clear();
      for (const person of data.users) people.set(person.id, person);
      render();
    },
    onEvent(event, payload) {
      if (event === "diff") applyDiff(payload);
    },
  });
}
