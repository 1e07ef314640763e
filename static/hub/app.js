// Page entry point: opens the one socket and starts each feature's UI module.
import { getHub } from "./hub.js";

const hub = getHub();
window.hub = hub; // handy in the console and for browser tests

const features = ["./presence.js", "./notifications.js", "./chat.js"];
for (const path of features) {
  import(path)
    .then((module) => module.init && module.init(hub))
    .catch((err) => console.error("feature failed to start", path, err));
}
