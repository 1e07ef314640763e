// Small DOM helpers for every UI module. Text goes in as text (textContent, text nodes),
// never as HTML: user content must not become markup.

/** el("li", {className: "x", textContent: name}, child, ...) -> a new element. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

/** A type="button" button; `label` is its accessible name when the text alone is not enough. */
export function button(text, { className = "secondary", label = null } = {}) {
  const node = el("button", { type: "button", className, textContent: text });
  if (label) node.setAttribute("aria-label", label);
  return node;
}

/**
 * A link target from stored data, or null: only a path on this site or an http(s) URL.
 * The server validates URLs too, but a stored "javascript:" URL would run as script here.
 */
export function safeUrl(url) {
  return typeof url === "string" && /^(\/(?![\/\\])|https?:\/\/)/i.test(url) ? url : null;
}
