// The thumbnail grid, virtualised: every cell has the same size, so the rows on screen follow
// from scrollTop alone; only those rows (plus a margin) are in the DOM, drawn by a small pool of
// recycled cells. Pages come from the API by cursor as the user nears the end of what is loaded.
import { mediaPage } from './api.js';
import { el } from './dom.js';

const MIN_CELL = 160; // px: the narrowest a column may get (two columns at phone width)
const CAPTION = 26; // px under each thumbnail for its name
const GAP = 6;
const MARGIN_ROWS = 3; // rows drawn above and below the visible ones
const PREFETCH_ROWS = 12; // fetch the next page when this close to the end of the loaded rows
const PAGE = 100;

export class Grid {
  constructor(scroller, spacer, { onOpen, onInfo, onError }) {
    this.scroller = scroller;
    this.spacer = spacer;
    this.onOpen = onOpen;
    this.onInfo = onInfo;
    this.onError = onError;
    this.items = [];
    this.cells = new Map(); // index -> cell element on screen
    this.pool = [];
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.generation = 0;
    this.cols = 1;
    this.cellW = MIN_CELL;
    this.rowH = MIN_CELL + CAPTION;
    this.frame = 0;
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.layout()).observe(scroller);
  }

  // A new result list for query q. Resolves when its first page is drawn.
  async reset(q) {
    this.generation++;
    this.q = q;
    this.items = [];
    this.cursor = null;
    this.done = false;
    this.loading = null;
    for (const cell of this.cells.values()) this.release(cell);
    this.cells.clear();
    this.scroller.scrollTop = 0;
    this.layout();
    await this.loadMore();
  }

  loadMore() {
    if (this.done) return Promise.resolve();
    if (this.loading) return this.loading;
    const gen = this.generation;
    this.loading = mediaPage(this.q, this.cursor, PAGE)
      .then((page) => {
        if (gen !== this.generation) return;
        this.items.push(...page.items);
        this.cursor = page.next_cursor;
        this.done = !page.next_cursor;
        this.onInfo(this.items.length, this.done);
        this.layout();
      })
      .catch((err) => {
        if (gen !== this.generation) return;
        this.done = true;
        this.onError(err);
      })
      .finally(() => {
        if (gen === this.generation) this.loading = null;
      });
    return this.loading;
  }

  layout() {
    const width = this.scroller.clientWidth - GAP;
    this.cols = Math.max(1, Math.floor(width / (MIN_CELL + GAP)));
    this.cellW = Math.floor(width / this.cols) - GAP;
    this.rowH = this.cellW + CAPTION + GAP;
    const rows = Math.ceil(this.items.length / this.cols);
    this.spacer.style.height = `${rows * this.rowH + GAP}px`;
    for (const [i, cell] of this.cells) this.place(cell, i);
    this.render();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight;
    const firstRow = Math.max(0, Math.floor(top / this.rowH) - MARGIN_ROWS);
    const lastRow = Math.floor((top + height) / this.rowH) + MARGIN_ROWS;
    const first = firstRow * this.cols;
    const last = Math.min(this.items.length, (lastRow + 1) * this.cols);
    for (const [i, cell] of this.cells) {
      if (i < first || i >= last) {
        this.cells.delete(i);
        this.release(cell);
      }
    }
    for (let i = first; i < last; i++) {
      if (!this.cells.has(i)) this.cells.set(i, this.draw(i));
    }
    const loadedRows = Math.ceil(this.items.length / this.cols);
    if (!this.done && lastRow + PREFETCH_ROWS >= loadedRows) this.loadMore();
  }

  draw(i) {
    const cell = this.pool.pop() || this.makeCell();
    const item = this.items[i];
    cell.dataset.index = String(i);
    cell.dataset.id = String(item.id);
    const img = cell.firstChild;
    img.alt = item.name; // a property, so a hostile name stays text
    // Rows on screen load at once; the margin rows lazily (set before src to take effect).
    const row = Math.floor(i / this.cols);
    const top = this.scroller.scrollTop;
    const onScreen = (row + 1) * this.rowH > top && row * this.rowH < top + this.scroller.clientHeight;
    img.loading = onScreen ? 'eager' : 'lazy';
    img.fetchPriority = onScreen ? 'high' : 'low';
    delete img.dataset.tries;
    img.src = item.thumb;
    cell.lastChild.textContent = item.name;
    cell.title = item.path;
    cell.classList.toggle('failed', item.status === 'failed');
    cell.classList.toggle('video', item.kind === 'video');
    this.place(cell, i);
    if (!cell.parentNode) this.spacer.appendChild(cell);
    return cell;
  }

  makeCell() {
    const cell = el('button', 'cell');
    cell.type = 'button';
    const img = el('img', 'thumb');
    img.decoding = 'async';
    // The server answers 503 when too much work is queued (a fast scroll over thumbnails not made
    // yet): try again a moment later, a few times, if the cell still shows the same photo.
    img.addEventListener('error', () => {
      const url = img.getAttribute('src');
      const tries = Number(img.dataset.tries || 0);
      if (!url || tries >= 3) return;
      img.dataset.tries = String(tries + 1);
      setTimeout(() => {
        if (img.getAttribute('src') !== url) return;
        img.removeAttribute('src');
        img.src = url;
      }, 1000 * (tries + 1));
    });
    cell.append(img, el('span', 'cell-name'));
    cell.addEventListener('click', () => this.onOpen(Number(cell.dataset.index)));
    return cell;
  }

  place(cell, i) {
    const row = Math.floor(i / this.cols);
    const col = i % this.cols;
    cell.style.width = `${this.cellW}px`;
    cell.style.height = `${this.cellW + CAPTION}px`;
    cell.style.transform = `translate(${GAP + col * (this.cellW + GAP)}px, ${GAP + row * this.rowH}px)`;
  }

  release(cell) {
    cell.remove();
    cell.firstChild.removeAttribute('src');
    this.pool.push(cell);
  }

  // Keeps item i on screen (after arrow keys moved the detail view past the visible rows).
  reveal(i) {
    const y = Math.floor(i / this.cols) * this.rowH;
    const top = this.scroller.scrollTop;
    if (y < top || y + this.rowH > top + this.scroller.clientHeight) this.scroller.scrollTop = y;
  }

  focusCell(i) {
    this.reveal(i);
    this.render();
    const cell = this.cells.get(i);
    if (cell) cell.focus({ preventScroll: true });
  }
}
