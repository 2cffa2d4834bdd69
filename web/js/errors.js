// The errors page: every file whose analysis failed, with the reason, paged by cursor.
import { errorsPage } from './api.js';
import { $, el, showMessage } from './dom.js';

export class ErrorsPage {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.list = $('errors-list');
    this.more = $('errors-more');
    this.cursor = null;
    this.more.addEventListener('click', () => this.load());
  }

  async reload() {
    this.list.replaceChildren();
    this.cursor = null;
    await this.load();
  }

  async load() {
    try {
      const page = await errorsPage(this.cursor);
      for (const it of page.items) {
        const li = el('li', 'error-item');
        const open = el('button', 'error-name', it.name);
        open.type = 'button';
        open.addEventListener('click', () => this.onOpen(it.id));
        li.append(open, el('div', 'error-path', it.path), el('div', 'error-reason', it.error));
        this.list.append(li);
      }
      this.cursor = page.next_cursor;
      this.more.hidden = !this.cursor;
      $('errors-empty').hidden = this.list.children.length > 0;
    } catch (err) {
      showMessage(`Cannot list the errors: ${err.message}`);
    }
  }
}
