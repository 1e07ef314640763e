// Loaded on every page (hub.ui): the editor and Yjs (about 90 KB) are fetched only on a document's page.
export async function init(hub) {
  if (!document.getElementById("doc")) return;
  const { start } = await import("./editor.js");
  start(hub);
}
