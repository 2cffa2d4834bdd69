// The JSON API (docs/api.md). Every call returns parsed JSON or throws an Error carrying the
// server's one-line {"error"} message, so callers can show it as text.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function getJSON(url, options = {}) {
  let res = await fetch(url, { headers: { Accept: 'application/json' }, ...options });
  // 503 = the server's work queue is full for a moment (Retry-After: 1): one more try.
  if (res.status === 503 && !options.method) {
    await sleep(1000 * Number(res.headers.get('Retry-After') || 1));
    res = await fetch(url, { headers: { Accept: 'application/json' }, ...options });
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return body;
}

export const postJSON = (url) => getJSON(url, { method: 'POST' });

// Labels of more than one word ("potted plant") cannot be a word of q, which splits at spaces;
// the search box writes them with '_' ("potted_plant") and they go as `labels=` (ANDed with q).
export function splitQuery(q) {
  const rest = [];
  const multi = [];
  for (const w of (q || '').split(/\s+/).filter(Boolean)) {
    if (w.includes('_') && !/[:|<>=]/.test(w)) multi.push(w.replace(/_/g, ' '));
    else rest.push(w);
  }
  return { q: rest.join(' '), labels: multi };
}

export function mediaPage(query, cursor, limit = 100) {
  const p = new URLSearchParams({ limit: String(limit) });
  const { q, labels: multi } = splitQuery(query);
  if (q) p.set('q', q);
  if (multi.length) p.set('labels', multi.join(','));
  if (cursor) p.set('cursor', cursor);
  return getJSON(`/api/media?${p}`);
}

export const mediaDetail = (id) => getJSON(`/api/media/${encodeURIComponent(id)}`);

export function labels(prefix, limit = 8, signal) {
  const p = new URLSearchParams({ prefix, limit: String(limit) });
  return getJSON(`/api/labels?${p}`, { signal });
}

export function errorsPage(cursor, limit = 100) {
  const p = new URLSearchParams({ limit: String(limit) });
  if (cursor) p.set('cursor', cursor);
  return getJSON(`/api/errors?${p}`);
}
