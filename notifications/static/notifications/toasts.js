// Toasts: a short-lived line for each new notification, at most a few on screen at once.
import { el } from "../hub/dom.js";
import { label } from "./who.js";

const TOAST_MS = 6000;
const MAX_TOASTS = 4;

export function toast(n) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const node = el("div", { className: "toast", textContent: label(n) });
  node.dataset.level = n.level;
  region.append(node);
  // A burst (e.g. a resume) must not cover the page: keep the newest few.
  while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
  setTimeout(() => node.remove(), TOAST_MS);
}
