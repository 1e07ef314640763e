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
// Loaded together (the page preloads them), started in order, then connected: by the time the
// label says "Connected" every module has made its channels, and a module that fails to load
// or start is logged without taking the others down.
const loaded = await Promise.allSettled(urls.map((url) => import(url)));
loaded.forEach((result, i) => {
  if (result.status === "rejected") {
    console.error("UI module failed to load", urls[i], result.reason);
    return;
  }
  try {
    result.value.init?.(hub);
  } catch (err) {
    console.error("UI module failed to start", urls[i], err);
  }
});
hub.connect();
