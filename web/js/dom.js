// Small DOM helpers. Text from the catalog (names, paths, errors, labels) is hostile: it is only
// ever set with textContent or as a property, never parsed as markup.
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

export const $ = (id) => document.getElementById(id);

export function formatSeconds(s) {
  if (s === null || s === undefined || !isFinite(s)) return '';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

export function showMessage(text) {
  const m = $('message');
  m.textContent = text || '';
  m.hidden = !text;
}
