// The staff live view (/admin/hub/): its own socket joins `hub:admin` and redraws the tables from
// the join reply and every `stats` push (docs/protocol.md). Everything goes in as text.
import { el } from "./dom.js";
import { HubSocket } from "./socket.js";
import { showConnectionState } from "./status.js";

const hub = new HubSocket();
window.hub = hub; // for the console and the browser tests
showConnectionState(hub, document.getElementById("hub-live-state"));

const number = (value) => el("td", { className: "number", textContent: value === null ? "–" : String(value) });

function fill(table, rows, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (!rows.length) {
    body.append(el("tr", {}, el("td", { className: "empty", colSpan: 9, textContent: emptyText })));
  }
}

function byCode(table, counts) {
  const rows = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => el("tr", {}, el("th", { scope: "row", textContent: code }), number(n)));
  fill(table, rows, "None");
}

function processRow(p) {
  const row = el("tr", {},
    el("td", { textContent: p.host }), number(p.pid), number(p.sockets),
    number(p.per_second.frames_in), number(p.per_second.frames_out), number(p.per_second.pushes_published),
    el("td", { textContent: new Date(p.started_at).toLocaleString() }));
  row.dataset.pid = String(p.pid);
  return row;
}

function render(stats) {
  const now = document.getElementById("hub-live-now");
  const gauges = stats.gauges.map((g) => {
    const row = el("tr", {}, el("th", { scope: "row", textContent: g.help }), number(g.value));
    row.dataset.gauge = g.name;
    return row;
  });
  const sockets = el("tr", {}, el("th", { scope: "row", textContent: "Sockets open, all processes." }),
    number(stats.totals.sockets));
  sockets.dataset.gauge = "sockets";
  fill(now, [...gauges, sockets], "");
  const processes = document.getElementById("hub-live-processes");
  fill(processes, stats.processes.map(processRow), "No server process has reported yet.");
  const t = stats.totals;
  processes.tFoot.replaceChildren(el("tr", {},
    el("th", { scope: "row", colSpan: 2, textContent: `All (${stats.processes.length})` }), number(t.sockets),
    number(t.per_second.frames_in), number(t.per_second.frames_out), number(t.per_second.pushes_published),
    el("td")));
  byCode(document.getElementById("hub-live-errors"), t.last_minute.errors);
  byCode(document.getElementById("hub-live-closes"), t.last_minute.closes);
  document.getElementById("hub-live-at").textContent = `as of ${new Date(stats.at).toLocaleTimeString()}`;
}

const channel = hub.channel("hub:admin");
channel.onJoin(render);
channel.on("stats", render);
channel.on("removed", () => {
  document.getElementById("hub-live-state").textContent = "No longer staff: the live view stopped.";
});
channel.onError((err) => {
  document.getElementById("hub-live-state").textContent = `Refused: ${err.message}`;
});
channel.join().catch(() => {}); // a refusal is shown by onError
hub.connect();
