// The live table (/live/<stream>/): joins `stream:<name>`, draws the snapshot, and updates the cells of every
// key a `ticks` frame carries, flashing the ones whose value changed. Values are JSON objects: one column per
// field seen so far. Everything goes in as text.
import { el } from "../hub/dom.js";

function cellText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function init(hub) {
  const root = document.getElementById("live");
  if (!root) return;
  const table = document.getElementById("live-table");
  const state = document.getElementById("live-state");
  const empty = document.getElementById("live-empty");
  const columns = [];
  const rows = new Map(); // key -> <tr>
  let seq = -1;

  function ensureColumns(value) {
    for (const field of Object.keys(value)) {
      if (columns.includes(field)) continue;
      columns.push(field);
      table.tHead.rows[0].append(el("th", { scope: "col", textContent: field }));
      for (const row of rows.values()) row.append(el("td"));
    }
  }

  function show(key, value, flash) {
    ensureColumns(value);
    let row = rows.get(key);
    if (!row) {
      row = el("tr", {}, el("th", { scope: "row", textContent: key }), ...columns.map(() => el("td")));
      row.dataset.key = key;
      const after = [...rows.keys()].sort().find((other) => other > key);
      table.tBodies[0].insertBefore(row, after ? rows.get(after) : null);
      rows.set(key, row);
    }
    columns.forEach((field, i) => {
      const cell = row.cells[i + 1];
      const text = cellText(value[field]);
      if (cell.textContent === text) return;
      cell.textContent = text;
      if (flash) {
        cell.classList.remove("changed");
        void cell.offsetWidth; // restart the animation
        cell.classList.add("changed");
      }
    });
    empty.hidden = rows.size > 0;
  }

  function apply(values, newSeq, flash) {
    if (newSeq <= seq) return; // never an older frame after a newer one
    seq = newSeq;
    for (const [key, value] of Object.entries(values)) show(key, value, flash);
    state.textContent = `Live: update ${seq}`;
  }

  const channel = hub.channel(`stream:${root.dataset.stream}`);
  channel.onJoin((data) => apply(data.snapshot, data.seq, false));
  channel.on("ticks", (payload) => apply(payload.values, payload.seq, true));
  channel.on("removed", () => { state.textContent = "You may no longer watch this stream."; });
  channel.onError((err) => { state.textContent = `Refused: ${err.message}`; });
  channel.join().catch(() => {});
}
