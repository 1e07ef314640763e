// The page's entry point: the tab's one socket, the connection label, and the UI module of
// every app that plugged one in (hub.ui.register in Python). It names no app: the page lists
// the modules in <script type="application/json" id="hub-modules">, in INSTALLED_APPS order.
import { HubSocket } from "./socket.js";
import { showConnectionState } from "./status.js";

const hub = new HubSocket();
window.hub = hub; // for the console and the browser tests
showConnectionState(hub, document.getElementById("hub-status"));

const listing = document.getElementById("hub-modules");
const urls = listing ? JSON.parse(listing.textContent) : [];
// Loaded together (the page preloads them), each started as soon as it and the ones before it
// are in, then connected: by the time the label says "Connected" every module has made its
// channels. A module that fails to load or start is logged without taking the others down.
const loading = urls.map((url) => import(url));
loading.forEach((module) => module.catch(() => {})); // reported below, in order, not as "uncaught"
for (const [i, module] of loading.entries()) {
  try {
    (await module).init?.(hub);
  } catch (err) {
    console.error("UI module failed to load or start", urls[i], err);
  }
}
hub.connect();
