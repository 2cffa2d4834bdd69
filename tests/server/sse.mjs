// A small Server-Sent Events reader over fetch (EventSource is not in Node 20).
export async function openEvents(base, headers = {}) {
  const controller = new AbortController();
  const r = await fetch(base + '/api/events', { headers, signal: controller.signal });
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  const events = [];
  let waiters = [];
  let buffer = '';
  let comments = 0;
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message', data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ event, data: JSON.parse(data) });
          waiters = waiters.filter((w) => !w());
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    response: r,
    events,
    comments: () => comments,
    // Resolves with the first event named `name` (after `from`) that satisfies `pred`.
    next(name, pred = () => true, timeoutMs = 60000, from = 0) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${name} event in ${timeoutMs} ms; got ${events.map((e) => e.event)}`)), timeoutMs);
        const check = () => {
          const e = events.slice(from).find((x) => x.event === name && pred(x.data));
          if (e) { clearTimeout(t); resolve(e.data); return true; }
          return false;
        };
        if (!check()) waiters.push(check);
      });
    },
    close: () => controller.abort(),
  };
}
