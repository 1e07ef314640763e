// The connection-state label (#hub-status). The socket only reports its state; showing it
// is this module's job, so the transport holds no DOM code.

const LABELS = {
  idle: "Offline",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  ended: "Signed out",
};

export function showConnectionState(socket, node) {
  if (!node) return;
  socket.onState((state) => {
    node.dataset.state = state;
    node.textContent = LABELS[state] || state;
  });
}
