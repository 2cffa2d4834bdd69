// The JSON API (docs/api.md). Every call returns parsed JSON or throws an Error carrying the
// server's one-line {"error"} message, so callers can show it as text.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJSON(url, options = {}) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, ...options });
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

export function mediaPage(q, cursor, limit = 100) {
  const p = new URLSearchParams({ limit: String(limit) });
  if (q) p.set('q', q);
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
