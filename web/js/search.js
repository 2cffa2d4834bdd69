// The search box: the query text goes to the server as-is (it parses the syntax); while typing,
// the word under the caret is completed from /api/labels with counts, chosen with the arrow keys
// and Enter/Tab, or the mouse.
import { labels } from './api.js';
import { el } from './dom.js';

const DEBOUNCE_MS = 120;

// The label word being typed: after the last space, and after the last '|' within it.
// Filter words (score>, folder:, ...) get no suggestions.
export function currentWord(text, caret) {
  const before = text.slice(0, caret);
  const wordStart = before.lastIndexOf(' ') + 1;
  const word = before.slice(wordStart);
  if (/[:<>=]/.test(word)) return null;
  const bar = word.lastIndexOf('|');
  const start = wordStart + bar + 1;
  let end = caret;
  while (end < text.length && !/[\s|]/.test(text[end])) end++;
  return { start, end, prefix: text.slice(start, caret) };
}

export class SearchBox {
  constructor(form, input, list, onSearch) {
    this.form = form;
    this.input = input;
    this.list = list;
    this.onSearch = onSearch;
    this.options = [];
    this.active = -1;
    this.timer = 0;
    this.abort = null;
    input.addEventListener('input', () => this.schedule());
    input.addEventListener('keydown', (e) => this.key(e));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.close();
      this.onSearch(this.input.value.trim());
    });
  }

  set value(q) {
    this.input.value = q;
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.suggest(), DEBOUNCE_MS);
  }

  async suggest() {
    const word = currentWord(this.input.value, this.input.selectionStart ?? this.input.value.length);
    if (!word || word.prefix === '') return this.close();
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    try {
      const res = await labels(word.prefix.replace(/_/g, ' '), 8, this.abort.signal);
      this.show(res.labels, word);
    } catch (err) {
      if (err.name !== 'AbortError') this.close();
    }
  }

  show(found, word) {
    this.list.replaceChildren();
    this.word = word;
    this.options = found;
    this.active = -1;
    if (found.length === 0) return this.close();
    found.forEach((l, i) => {
      const li = el('li', 'suggestion');
      li.id = `suggestion-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.append(el('span', 'suggestion-label', l.label), el('span', 'count', l.count));
      li.addEventListener('mousedown', (e) => {
        e.preventDefault(); // keep the focus in the input
        this.choose(i);
      });
      this.list.append(li);
    });
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  close() {
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.active = -1;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  highlight(i) {
    this.active = i;
    [...this.list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) this.input.setAttribute('aria-activedescendant', `suggestion-${i}`);
    else this.input.removeAttribute('aria-activedescendant');
  }

  choose(i) {
    const { start, end } = this.word;
    const text = this.input.value;
    const label = this.options[i].label.replace(/ /g, '_'); // one word of the query (api.js splitQuery)
    const rest = text.slice(end);
    const spacer = rest.startsWith(' ') || rest.startsWith('|') ? '' : ' ';
    this.input.value = text.slice(0, start) + label + spacer + rest;
    const caret = start + label.length + spacer.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
  }

  key(e) {
    const open = !this.list.hidden && this.options.length > 0;
    if (!open) return;
    const n = this.options.length;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      this.highlight((this.active + 1) % n);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      this.highlight((this.active - 1 + n) % n);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && this.active >= 0) {
      e.preventDefault();
      this.choose(this.active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }
}
