// Filled by the notifications app: its UI on the hub socket.
export function init(hub) {}
