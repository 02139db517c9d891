// Builds DOM nodes from plain values, so that user data only ever reaches the page as text.

/**
 * h("button", {class: "btn", onclick: fn, "aria-label": "x"}, "text", childNode, ...)
 * Attributes: `class`, `text`, `dataset` (object), `on<event>` handlers, booleans (set when
 * true), everything else through setAttribute. Children: strings become text nodes; null,
 * undefined and false are skipped; arrays are flattened.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** The element with this id; a missing one is a template/script mismatch, said loudly. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`admin panel: #${id} is missing from admin.html`);
  return el;
}

/** Names typed by a person: split on new lines, commas and spaces, blanks and repeats dropped. */
export function splitNames(text) {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter((s) => s))];
}

/** Calls `fn` once input has paused for `ms`; `cancel()` drops the pending call. */
export function debounce(fn, ms) {
  let timer = null;
  let lastArgs = [];
  const debounced = (...args) => {
    lastArgs = args;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...lastArgs);
    }, ms);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}
