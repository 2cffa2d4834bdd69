// The gallery's wiring. The URL holds the state (?q= the search, ?view=errors, ?id= the open
// photo), so reload and Back/Forward give the same screen.
import { $, showMessage } from './dom.js';
import { Detail } from './detail.js';
import { ErrorsPage } from './errors.js';
import { Grid } from './grid.js';
import { RunPanel } from './run.js';
import { SearchBox } from './search.js';

const state = { q: null, view: 'gallery', index: -1, pushedDetail: false };

function readUrl() {
  const p = new URLSearchParams(location.search);
  return { q: p.get('q') || '', view: p.get('view') === 'errors' ? 'errors' : 'gallery', id: p.get('id') };
}

function urlFor({ q, view, id }) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (view === 'errors') p.set('view', 'errors');
  if (id) p.set('id', String(id));
  const s = p.toString();
  return s ? `/?${s}` : '/';
}

const grid = new Grid($('grid-scroller'), $('grid-spacer'), {
  onOpen: (i) => openIndex(i),
  onInfo: (n, done) => {
    $('result-info').textContent = n === 0 && done ? 'No photos match.' : `${n}${done ? '' : '+'} photos`;
    document.body.dataset.loaded = String(n);
  },
  onError: (err) => {
    $('result-info').textContent = '';
    showMessage(err.message);
  },
});

const detail = new Detail({ onMove: (d) => move(d), onClose: () => closeDetail() });
const errors = new ErrorsPage({ onOpen: (id) => openId(id) });
const search = new SearchBox($('search-form'), $('q'), $('suggestions'), (q) => {
  history.pushState(null, '', urlFor({ q, view: 'gallery' }));
  apply();
});
const run = new RunPanel({
  onFinished: () => {
    if (state.view === 'errors') errors.reload();
    // New photos show at once unless the user is somewhere down the grid (a reload would lose it).
    else if (!detail.open && $('grid-scroller').scrollTop < 200) reloadGrid();
  },
  onFailure: () => {},
});

function reloadGrid() {
  showMessage('');
  return grid.reset(state.q);
}

function showView(view) {
  state.view = view;
  $('gallery-view').hidden = view !== 'gallery';
  $('errors-view').hidden = view !== 'errors';
  $('nav-gallery').setAttribute('aria-pressed', String(view === 'gallery'));
  $('nav-errors').setAttribute('aria-pressed', String(view === 'errors'));
  if (view === 'errors') errors.reload();
}

// Brings the page in line with the URL.
async function apply() {
  const u = readUrl();
  search.value = u.q;
  document.title = u.q ? `${u.q} · mediadex` : 'mediadex';
  if (u.view !== state.view || state.q === null) showView(u.view);
  const loading = u.q !== state.q ? ((state.q = u.q), reloadGrid()) : Promise.resolve();
  if (u.id) {
    await loading;
    state.index = grid.items.findIndex((it) => String(it.id) === u.id);
    detail.show(u.id);
  } else if (detail.open) {
    detail.hide();
    state.pushedDetail = false;
    if (state.index >= 0) grid.focusCell(state.index);
  }
}

function openIndex(i) {
  state.index = i;
  openId(grid.items[i].id);
}

function openId(id) {
  const url = urlFor({ q: state.q, view: state.view, id });
  if (detail.open) history.replaceState(null, '', url);
  else {
    history.pushState(null, '', url);
    state.pushedDetail = true;
  }
  if (!grid.items[state.index] || grid.items[state.index].id !== id) {
    state.index = grid.items.findIndex((it) => it.id === id);
  }
  detail.show(id);
}

async function move(delta) {
  if (state.index < 0) return;
  let i = state.index + delta;
  if (i >= grid.items.length && !grid.done) await grid.loadMore();
  if (i < 0 || i >= grid.items.length) return;
  state.index = i;
  grid.reveal(i);
  history.replaceState(null, '', urlFor({ q: state.q, view: state.view, id: grid.items[i].id }));
  detail.show(grid.items[i].id);
}

function closeDetail() {
  if (state.pushedDetail) {
    history.back(); // popstate -> apply() hides it
    return;
  }
  history.replaceState(null, '', urlFor({ q: state.q, view: state.view }));
  apply();
}

$('nav-gallery').addEventListener('click', () => {
  history.pushState(null, '', urlFor({ q: state.q, view: 'gallery' }));
  apply();
});
$('nav-errors').addEventListener('click', () => {
  history.pushState(null, '', urlFor({ q: state.q, view: 'errors' }));
  apply();
});
$('home-link').addEventListener('click', (e) => {
  e.preventDefault();
  history.pushState(null, '', '/');
  apply();
});
window.addEventListener('popstate', () => {
  state.pushedDetail = false;
  apply();
});

// The first page of thumbnails goes first; the run panel's status call and its event stream (which
// holds one of the browser's six HTTP/1.1 connections for good) start once it is on screen.
apply().finally(() => run.init());
