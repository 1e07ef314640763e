// Filled by the chat app: its UI on the hub socket.
export function init(hub) {}
