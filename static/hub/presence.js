// Filled by the presence app: its UI on the hub socket.
export function init(hub) {}
