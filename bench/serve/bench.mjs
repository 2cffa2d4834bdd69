// API latency of `mediadex serve` over a large catalog (bench/serve/run.sh starts it):
//   node bench/serve/bench.mjs BASE_URL BIG_JPEG_IDS
// Prints p50/p99 for list, search, detail and cached thumbnails at 32 concurrent clients,
// first-time thumbnails of 12 MP JPEGs, and a GET's p99 with 500 idle event streams open.
const base = process.argv[2];
const bigIds = (process.argv[3] || '').split(',').filter(Boolean).map(Number);

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timed(url) {
  const t = performance.now();
  const r = await fetch(base + url);
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return performance.now() - t;
}

async function run(name, urls, concurrency = 32) {
  const times = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) times.push(await timed(urls[next++]));
  }));
  console.log(`${name.padEnd(34)} n=${String(times.length).padStart(5)}  p50 ${pct(times, 50).toFixed(1).padStart(7)} ms  p99 ${pct(times, 99).toFixed(1).padStart(7)} ms`);
  return times;
}

const N = 2000;
const first = await (await fetch(base + '/api/media?limit=500')).json();
const ids = first.items.map((i) => i.id);
const thumbs = first.items.slice(0, 50).map((i) => i.thumb);
for (const t of thumbs) await timed(t);  // warm the thumbnail cache
const cursor = first.next_cursor;
const r = (n, f) => Array.from({ length: n }, (_, i) => f(i));
await run('list (date, 100, first page)', r(N, () => '/api/media?limit=100'));
await run('list (date, 100, page 6)', r(N, () => `/api/media?limit=100&cursor=${cursor}`));
await run('search "dog" (100)', r(N, () => '/api/media?q=dog&limit=100'));
await run('search "dog|cat folder:2019/trip"', r(300, () => '/api/media?limit=100&q=' + encodeURIComponent('dog|cat folder:2019/trip')));
await run('search "person car" sort=score', r(500, () => '/api/media?limit=100&sort=score&q=' + encodeURIComponent('person car')));
await run('labels prefix "c"', r(500, () => '/api/labels?prefix=c'));
await run('detail', r(N, (i) => `/api/media/${ids[i % ids.length]}`));
await run('thumbnail (cached)', r(N, (i) => thumbs[i % thumbs.length]));
if (bigIds.length) {
  const urls = [];
  for (const id of bigIds) {
    const d = await (await fetch(`${base}/api/media/${id}`)).json();
    urls.push(d.thumb);
  }
  await run('thumbnail first time (12 MP JPEG)', urls, 4);
}

// 500 idle event streams, then GETs.
const streams = [];
for (let i = 0; i < 500; i++) {
  const c = new AbortController();
  const resp = await fetch(base + '/api/events', { signal: c.signal });
  const reader = resp.body.getReader();
  reader.read().catch(() => {});
  streams.push({ c, reader });
}
await run('detail with 500 idle SSE clients', r(N, (i) => `/api/media/${ids[i % ids.length]}`));
await run('healthz with 500 idle SSE clients', r(N, () => '/healthz'), 1);
for (const s of streams) s.c.abort();
process.exit(0);
