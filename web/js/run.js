// "Index now": starts a run over the server's library roots and shows its progress live from
// the event stream (/api/events): done / total, images/s, ETA and failures; Cancel asks the
// server to stop after the batches in flight.
import { getJSON, postJSON } from './api.js';
import { $, formatSeconds, showMessage } from './dom.js';

const ACTIVE = new Set(['scanning', 'running', 'cancelling']);

export class RunPanel {
  constructor({ onFinished, onFailure }) {
    this.onFinished = onFinished;
    this.onFailure = onFailure;
    this.button = $('index-now');
    this.cancel = $('cancel-run');
    this.bar = $('run-bar');
    this.text = $('run-text');
    this.state = { state: 'idle' };
    this.failed = 0;
    this.failedInCatalog = 0;
    this.libraries = null;
    this.button.addEventListener('click', () => this.start());
    this.cancel.addEventListener('click', () => this.stop());
  }

  async init() {
    try {
      const status = await getJSON('/api/status');
      this.libraries = status.libraries || [];
      if (this.libraries.length === 0) {
        this.button.disabled = true;
        this.button.title = 'No library configured';
        this.text.textContent = 'No library configured: start mediadex serve with --library DIR to index from here.';
      }
      this.showFailedCount(status.failed || 0);
      if (status.run) this.update(status.run);
    } catch (err) {
      showMessage(`Cannot read the status: ${err.message}`);
    }
    this.listen();
  }

  listen() {
    const es = new EventSource('/api/events');
    const on = (name, fn) => es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    on('hello', (s) => this.update(s));
    on('run_started', (s) => {
      this.failed = s.failed || 0;
      this.update(s);
    });
    on('scanned', (s) => this.update({ ...this.state, state: 'running', total: s.to_analyse, done: 0 }));
    on('progress', (p) => this.update({ ...this.state, ...p, state: this.state.state === 'cancelling' ? 'cancelling' : 'running' }));
    on('failure', (f) => {
      this.update({ ...this.state, failed: (this.state.failed || 0) + 1 });
      this.showFailedCount(this.failedInCatalog + 1);
      this.onFailure(f);
    });
    on('run_finished', (f) => {
      const state = f.cancelled ? 'cancelled' : f.state || 'finished';
      this.update({ ...this.state, state, done: f.done, failed: f.failed, error: f.error });
      this.onFinished(f);
      getJSON('/api/status').then((st) => this.showFailedCount(st.failed || 0), () => {});
    });
    this.events = es;
  }

  // The number beside "Errors": failed files in the catalog.
  showFailedCount(n) {
    this.failedInCatalog = n;
    $('errors-count').textContent = n > 0 ? String(n) : '';
  }

  async start() {
    showMessage('');
    try {
      this.update(await postJSON('/api/runs'));
    } catch (err) {
      showMessage(err.status === 400 ? `Cannot index: ${err.message}` : err.message);
    }
  }

  async stop() {
    try {
      this.update(await postJSON('/api/runs/current/cancel'));
    } catch (err) {
      showMessage(err.message);
    }
  }

  update(s) {
    this.state = { ...this.state, ...s };
    const st = this.state;
    const active = ACTIVE.has(st.state);
    document.body.dataset.run = st.state;
    this.button.hidden = active;
    this.cancel.hidden = !active || st.state === 'cancelling';
    if (st.state === 'idle') {
      this.bar.hidden = true;
      if (this.libraries && this.libraries.length) this.text.textContent = '';
      return;
    }
    const total = st.total || 0;
    const done = st.done || 0;
    this.bar.hidden = false;
    this.bar.max = Math.max(total, 1);
    this.bar.value = st.state === 'finished' && total === 0 ? 1 : Math.min(done, total);
    this.bar.dataset.done = String(done);
    this.bar.dataset.total = String(total);
    const parts = [];
    if (st.state === 'scanning') parts.push('Scanning…');
    else parts.push(`${done} / ${total}`);
    if (active && st.images_per_s) parts.push(`${st.images_per_s.toFixed(1)} images/s`);
    if (active && st.eta_s !== null && st.eta_s !== undefined && st.state === 'running') parts.push(`ETA ${formatSeconds(st.eta_s)}`);
    parts.push(`${st.failed || 0} failed`);
    if (!active) parts.push(st.state === 'failed' && st.error ? `failed: ${st.error}` : st.state);
    else if (st.state === 'cancelling') parts.push('cancelling…');
    this.text.textContent = parts.join(' · ');
  }
}
