// The detail view: the preview with every detection drawn as a positioned box (label + score),
// placed from box_norm over the picture's real rect inside its object-fit: contain element, and
// placed again whenever the stage changes size. Videos play the original and list their
// moments (detection times) as buttons that seek to them.
import { mediaDetail } from './api.js';
import { $, el, formatSeconds } from './dom.js';
import { boxRect, containRect } from './geometry.js';

const TIME_SLACK_S = 0.05; // a video's boxes show when the playhead is this close to their time

export class Detail {
  constructor({ onMove, onClose }) {
    this.onMove = onMove;
    this.onClose = onClose;
    this.root = $('detail');
    this.img = $('detail-img');
    this.video = $('detail-video');
    this.boxes = $('boxes');
    this.stage = $('stage');
    this.item = null;
    this.request = 0;
    $('detail-prev').addEventListener('click', () => this.onMove(-1));
    $('detail-next').addEventListener('click', () => this.onMove(1));
    $('detail-close').addEventListener('click', () => this.onClose());
    this.img.addEventListener('load', () => this.drawBoxes());
    this.video.addEventListener('loadedmetadata', () => this.drawBoxes());
    this.video.addEventListener('seeked', () => this.drawBoxes());
    this.video.addEventListener('play', () => this.drawBoxes());
    new ResizeObserver(() => this.drawBoxes()).observe(this.stage);
    document.addEventListener('keydown', (e) => this.key(e));
  }

  get open() {
    return !this.root.hidden;
  }

  async show(id) {
    const req = ++this.request;
    this.root.hidden = false;
    document.body.classList.add('detail-open');
    this.setBackgroundInert(true);
    let item;
    try {
      item = await mediaDetail(id);
    } catch (err) {
      if (req !== this.request) return;
      this.clear();
      $('detail-name').textContent = `Cannot open #${id}`;
      this.setError(err.message);
      return;
    }
    if (req !== this.request) return;
    this.render(item);
  }

  clear() {
    this.item = null;
    this.boxes.replaceChildren();
    this.img.hidden = true;
    this.img.removeAttribute('src');
    this.video.pause();
    this.video.hidden = true;
    this.video.removeAttribute('src');
    this.video.load();
    $('moments').hidden = true;
    $('detections').replaceChildren();
    this.setError(null);
  }

  setError(text) {
    const e = $('detail-error');
    e.textContent = text || '';
    e.hidden = !text;
  }

  render(item) {
    this.clear();
    this.item = item;
    this.root.dataset.id = String(item.id);
    $('detail-name').textContent = item.name;
    $('detail-path').textContent = item.path;
    const meta = [`${item.width} × ${item.height}`];
    if (item.capture_time) meta.push(item.capture_time.replace('T', ' ').replace('Z', ' UTC'));
    if (item.kind === 'video' && item.duration_s) meta.push(formatSeconds(item.duration_s));
    meta.push(item.status);
    $('detail-meta').textContent = meta.join(' · ');
    this.setError(item.error);
    $('detail-original').href = item.original;

    const list = $('detections');
    for (const d of item.detections) {
      const t = d.time === null || d.time === undefined ? '' : ` @ ${formatSeconds(d.time)}`;
      list.append(el('li', null, `${d.label} ${d.score.toFixed(2)}${t}`));
    }

    if (item.kind === 'video') {
      this.video.hidden = false;
      this.video.src = item.original;
      this.renderMoments(item);
    } else {
      this.img.hidden = false;
      this.img.alt = item.name;
      this.img.src = item.thumbs.preview;
    }
    $('detail-close').focus({ preventScroll: true });
  }

  renderMoments(item) {
    const times = [...new Set(item.detections.filter((d) => d.time !== null).map((d) => d.time))].sort((a, b) => a - b);
    const ul = $('moments-list');
    ul.replaceChildren();
    for (const t of times) {
      const here = item.detections.filter((d) => d.time === t);
      const b = el('button', 'moment', `${formatSeconds(t)} ${[...new Set(here.map((d) => d.label))].join(', ')}`);
      b.type = 'button';
      b.dataset.time = String(t);
      b.addEventListener('click', () => {
        this.video.pause();
        this.video.currentTime = t;
      });
      const li = el('li');
      li.append(b);
      ul.append(li);
    }
    $('moments').hidden = times.length === 0;
  }

  // The detections to draw now: all of a photo's; a video's at the playhead's moment.
  current() {
    const dets = this.item ? this.item.detections : [];
    if (!this.item || this.item.kind !== 'video') return dets;
    const t = this.video.currentTime;
    return dets.filter((d) => d.time !== null && Math.abs(d.time - t) <= TIME_SLACK_S);
  }

  drawBoxes() {
    if (!this.item) return;
    const media = this.item.kind === 'video' ? this.video : this.img;
    const natW = this.item.kind === 'video' ? media.videoWidth : media.naturalWidth;
    const natH = this.item.kind === 'video' ? media.videoHeight : media.naturalHeight;
    // The overlay layer covers exactly the media element; boxes go inside the picture's rect.
    const layer = this.boxes;
    layer.style.left = `${media.offsetLeft}px`;
    layer.style.top = `${media.offsetTop}px`;
    layer.style.width = `${media.clientWidth}px`;
    layer.style.height = `${media.clientHeight}px`;
    const pic = containRect(media.clientWidth, media.clientHeight, natW, natH);
    layer.replaceChildren();
    if (pic.width === 0) return;
    this.current().forEach((d, i) => {
      const r = boxRect(pic, d.box_norm);
      const box = el('div', 'box');
      box.dataset.index = String(this.item.detections.indexOf(d));
      box.dataset.label = d.label;
      box.style.left = `${r.x}px`;
      box.style.top = `${r.y}px`;
      box.style.width = `${r.width}px`;
      box.style.height = `${r.height}px`;
      box.style.setProperty('--hue', String((i * 47) % 360));
      const tag = el('span', 'box-label', `${d.label} ${d.score.toFixed(2)}`);
      if (r.y < 18) tag.classList.add('inside');
      box.append(tag);
      layer.append(box);
    });
  }

  key(e) {
    if (!this.open || e.defaultPrevented) return;
    if (e.target instanceof HTMLInputElement) return;
    if (e.key === 'Tab') {
      // Wrap around inside the dialog (the page behind is inert).
      const f = [...this.root.querySelectorAll('button, a[href], video[controls]')].filter((x) => !x.closest('[hidden]'));
      if (f.length === 0) return;
      const at = f.indexOf(document.activeElement);
      if (e.shiftKey && at <= 0) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && (at === -1 || at === f.length - 1)) {
        e.preventDefault();
        f[0].focus();
      }
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.onClose();
    } else if (e.key === 'ArrowLeft' && !(e.target instanceof HTMLVideoElement)) {
      e.preventDefault();
      this.onMove(-1);
    } else if (e.key === 'ArrowRight' && !(e.target instanceof HTMLVideoElement)) {
      e.preventDefault();
      this.onMove(1);
    }
  }

  hide() {
    this.request++;
    this.clear();
    this.root.hidden = true;
    delete this.root.dataset.id;
    document.body.classList.remove('detail-open');
    this.setBackgroundInert(false);
  }

  // A modal: Tab stays inside the detail view while it is open.
  setBackgroundInert(on) {
    for (const e of document.querySelectorAll('body > header, body > main, #message')) e.inert = on;
  }
}
