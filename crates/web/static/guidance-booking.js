// Guidance booking: the <guidance-booking> custom element, and the Booker that also enhances
// the server-rendered /book page, so that both behave the same. A plain ES module: no framework,
// no build step, no third-party requests. Every word comes from the service's locale files.
//
//   <script type="module" src="https://guidance.example/embed/guidance-booking.js"></script>
//   <guidance-booking service="https://guidance.example" lang="en"></guidance-booking>
//
// Theme it from the host page with --guidance-accent, --guidance-accent-text, --guidance-error,
// --guidance-border, --guidance-radius, --guidance-muted; it inherits the page's font and colour.

// The server's rules (crates/core/src/intake.rs), so that the visitor learns of a problem before
// sending. The server stays the judge: its answer is shown at the same place.
const EMAIL = /^(?!\.)(?!.*\.\.)[^\s@"<>(),;:\\[\]]{1,64}(?<!\.)@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(?:\p{L}+|xn--[\p{L}\p{N}-]+)$/u;
const INLINE_BAD = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const MULTILINE_BAD = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Creates an element: attributes (false/null left out, `on…` as listeners) and children. */
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...kids.flat(2).filter((k) => k != null && k !== false));
  return el;
}

/** A lookup over a flat text map with `{placeholder}` filling. */
function translator(texts) {
  return (key, args = {}) =>
    (texts[key] ?? key).replace(/\{(\w+)\}/g, (m, n) => (n in args ? String(args[n]) : m));
}

/** "With Olga Owner, 45 minutes": who the sessions are with and how long the open ones last. */
function sessionLine(t, texts, lang, slots) {
  const owner = texts.owner ?? '';
  const mins = slots.map((s) => Math.round((Date.parse(s.ends_at) - Date.parse(s.starts_at)) / 60000));
  if (!mins.length) return t('public.book.with_owner_only', { owner });
  const [min, max] = [Math.min(...mins), Math.max(...mins)];
  let length;
  if (min === max) {
    const key = `public.book.minutes.${new Intl.PluralRules(lang).select(min)}`;
    length = t(key in texts ? key : 'public.book.minutes.other', { count: min });
  } else {
    length = t('public.book.minutes_range', { min, max });
  }
  return t('public.book.with_owner', { owner, length });
}

/** The visitor's IANA zone, as the browser knows it. */
export function detectZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function knownZone(zone) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Date and time formatters for one language and zone. Times follow the language's own clock
 * (CLDR, as the server's pages do): "7:00 PM" in English, "19:00" in German.
 */
function clock(lang, zone) {
  const f = (o) => new Intl.DateTimeFormat(lang, { timeZone: zone, ...o });
  const day = f({ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const short = f({ weekday: 'short', day: 'numeric', month: 'short' });
  const time = f({ hour: 'numeric', minute: '2-digit' });
  const key = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
  });
  return {
    day: (d) => day.format(d),
    short: (d) => short.format(d),
    time: (d) => time.format(d),
    key: (d) => key.format(d),
    span: (s, e) => `${day.format(s)}, ${time.format(s)}–${time.format(e)} (${zone})`,
  };
}

/** Open slots asked for at a time, as the visitor moves on to later days. */
const PAGE = 24;

/**
 * Of `list` (an answer to `/api/slots?limit=PAGE`), the slots to show and where the next ones
 * start (null: there are none). A full answer may end inside a day: that day waits for the next
 * load, so that no day is shown with only some of its times.
 */
export function wholeDays(list, key) {
  if (list.length < PAGE) return { slots: list, next: null };
  const day = (s) => key(new Date(s.starts_at));
  const last = day(list[list.length - 1]);
  let cut = list.length;
  while (cut > 0 && day(list[cut - 1]) === last) cut -= 1;
  if (cut > 0) return { slots: list.slice(0, cut), next: list[cut].starts_at };
  // One long day: show what came, the rest of it follows (a second later: slots start on whole
  // seconds, and times are compared as written, so none with a fraction of a second).
  const after = new Date(Date.parse(list[list.length - 1].starts_at) + 1000)
    .toISOString().replace(/\.\d+Z$/, 'Z');
  return { slots: list, next: after };
}

/**
 * The booking behaviour shared by /book and the element: slots by day in the visitor's zone, a
 * day picker, inline validation, and sending through the JSON API with every error state.
 * `root` (a document or shadow root) holds `.booking-area` with `form.zone`, `.notice` and
 * `form.booking`.
 */
export class Booker {
  constructor(root, { base = '', lang = 'en', texts = {}, zone, slots, next = null, level = 1 }) {
    this.root = root;
    this.base = base.replace(/\/$/, '');
    this.lang = lang;
    this.t = translator(texts);
    this.owner = texts.owner || '';
    this.level = level;
    this.form = root.querySelector('form.booking');
    this.notice = root.querySelector('.notice');
    this.list = root.querySelector('.slot-list');
    this.button = this.form.querySelector('button[type=submit]');
    this.zone = zone && knownZone(zone) ? zone : detectZone();
    this.slots = slots || [...this.list.querySelectorAll('input[name=slot_id]')].map((i) => ({
      id: i.value, starts_at: i.dataset.start, ends_at: i.dataset.end,
    }));
    this.chosen = this.form.querySelector('input[name=slot_id]:checked')?.value || '';
    this.day = '';
    // Later days: the page's "later" link (its `from`) or what the element's first load left.
    const link = root.querySelector('a.later');
    this.next = link ? new URL(link.href, location.href).searchParams.get('from') : next;
    this.more = h('button', { type: 'button', class: 'later', onclick: () => this.loadMore() },
      this.t('public.book.later'));
    this.more.hidden = !this.next;
    if (link) link.replaceWith(this.more);
    else this.list.after(this.more);
    this.setupZone();
    this.renderSlots();
    performance.mark('guidance:slots-shown');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.form.addEventListener('focusout', (e) => {
      if (this.fields().includes(e.target)) this.check(e.target, true);
    });
    this.form.addEventListener('input', (e) => {
      if (e.target.getAttribute('aria-invalid') === 'true') this.check(e.target, false);
    });
    this.form.addEventListener('change', (e) => {
      if (e.target.name === 'slot_id') {
        this.chosen = e.target.value;
        this.slotError(null);
      } else if (e.target.type === 'checkbox' || e.target.tagName === 'SELECT') {
        this.check(e.target, false);
      }
    });
  }

  /** Turns the zone box into a list of the browser's zones that relabels slots at once. */
  setupZone() {
    const zoneForm = this.root.querySelector('form.zone');
    const hidden = this.form.querySelector('[name=time_zone]');
    if (hidden) hidden.value = this.zone;
    if (!zoneForm) return;
    const input = zoneForm.querySelector('[name=tz]');
    let zones = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
    if (!zones.includes(this.zone)) zones = [this.zone, ...zones];
    const select = h('select', { id: input.id, name: 'tz' },
      zones.map((z) => h('option', { value: z, selected: z === this.zone }, z.replaceAll('_', ' '))));
    input.replaceWith(select);
    zoneForm.querySelector('button')?.remove();
    zoneForm.addEventListener('submit', (e) => e.preventDefault());
    select.addEventListener('change', () => {
      this.zone = select.value;
      if (hidden) hidden.value = this.zone;
      this.renderSlots();
    });
  }

  /** Loads the next days from the JSON API and shows the first of them. */
  async loadMore() {
    if (!this.next || this.loading) return;
    this.loading = true;
    this.more.disabled = true;
    this.more.textContent = this.t('public.book.loading');
    const key = clock(this.lang, this.zone).key;
    try {
      const q = new URLSearchParams({ from: this.next, limit: PAGE });
      const r = await fetch(`${this.base}/api/slots?${q}`);
      if (!r.ok) throw new Error(String(r.status));
      const { slots, next } = wholeDays((await r.json()).slots, key);
      const known = new Set(this.slots.map((s) => s.id));
      this.slots.push(...slots.filter((s) => !known.has(s.id)));
      this.next = next;
      this.renderSlots(slots[0] && key(new Date(slots[0].starts_at)));
      this.list.querySelector('.days button[aria-pressed=true]')?.focus();
    } catch {
      this.notify(this.t('public.book.load_error'),
        { label: this.t('public.book.retry'), run: () => this.loadMore() });
    } finally {
      this.loading = false;
      this.more.disabled = false;
      this.more.textContent = this.t('public.book.later');
      this.more.hidden = !this.next;
    }
  }

  /** Draws the open slots grouped by day in the visitor's zone, one day at a time (`show`, or
   * the chosen slot's, or the first). */
  renderSlots(show) {
    const c = clock(this.lang, this.zone);
    const groups = new Map();
    for (const s of this.slots) {
      const start = new Date(s.starts_at);
      const key = c.key(start);
      if (!groups.has(key)) groups.set(key, { start, items: [] });
      groups.get(key).items.push({ ...s, start, end: new Date(s.ends_at) });
    }
    if (!this.slots.some((s) => s.id === this.chosen)) this.chosen = '';
    const chosen = this.slots.find((s) => s.id === this.chosen);
    if (show) this.day = show;
    else if (chosen) this.day = c.key(new Date(chosen.starts_at));
    if (!groups.has(this.day)) this.day = groups.keys().next().value || '';
    this.button.disabled = groups.size === 0;
    if (groups.size === 0) {
      this.list.replaceChildren(h('p', { class: 'empty' }, this.t('public.book.closed')));
      return;
    }
    const picker = h('div', { class: 'days', role: 'group', 'aria-label': this.t('public.book.days.label') });
    const days = [];
    for (const [key, g] of groups) {
      const label = c.day(g.start);
      picker.append(h('button', {
        type: 'button', 'data-day': key, 'aria-pressed': String(key === this.day),
        title: label, onclick: () => this.showDay(key),
      }, c.short(g.start)));
      days.push(h('div', { class: 'day', 'data-day': key, hidden: key !== this.day },
        h(`h${this.level + 1}`, {}, label),
        h('ul', {}, g.items.map((s) => {
          const span = `${c.time(s.start)}–${c.time(s.end)}`;
          return h('li', {}, h('label', { class: 'slot' },
            h('input', {
              type: 'radio', name: 'slot_id', value: s.id, 'data-start': s.starts_at,
              'data-end': s.ends_at, checked: s.id === this.chosen,
            }),
            h('span', { 'aria-hidden': 'true' }, span),
            h('span', { class: 'vh' }, c.span(s.start, s.end))));
        }))));
    }
    this.list.replaceChildren(picker, ...days);
  }

  showDay(key) {
    this.day = key;
    for (const b of this.list.querySelectorAll('.days button')) {
      b.setAttribute('aria-pressed', String(b.dataset.day === key));
    }
    for (const d of this.list.querySelectorAll('.day')) d.hidden = d.dataset.day !== key;
  }

  fields() {
    return [...this.form.querySelectorAll(
      'input:not([type=hidden]):not([type=radio]):not([name=website]), textarea, select')];
  }

  /** The reason code the server would give for this control's value, or null. */
  problem(el) {
    if (el.type === 'checkbox') return el.required && !el.checked ? 'empty' : null;
    const v = el.value.trim();
    if (!v) return el.required ? 'empty' : null;
    if ((el.tagName === 'TEXTAREA' ? MULTILINE_BAD : INLINE_BAD).test(v)) return 'control_characters';
    if (el.maxLength > 0 && [...v].length > el.maxLength) return 'too_long';
    if (el.type === 'email' && !EMAIL.test(v)) return 'invalid_email';
    return null;
  }

  /** Checks one control and shows or clears its message; leaving an untouched field is fine. */
  check(el, leaving) {
    const code = this.problem(el);
    if (leaving && code === 'empty' && el.getAttribute('aria-invalid') !== 'true') return code;
    this.fieldError(el, code && this.t(`errors.field.${code}`));
    return code;
  }

  fieldError(el, message) {
    const id = `${el.id}-error`;
    const p = this.root.querySelector(`#${CSS.escape(id)}`);
    if (!p) return;
    p.textContent = message || '';
    p.hidden = !message;
    if (message) {
      el.setAttribute('aria-invalid', 'true');
      el.setAttribute('aria-describedby', id);
    } else {
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-describedby');
    }
  }

  slotError(message) {
    const p = this.root.querySelector('#slot_id-error');
    const set = this.form.querySelector('fieldset.slots');
    p.textContent = message || '';
    p.hidden = !message;
    if (message) set.setAttribute('aria-describedby', 'slot_id-error');
    else set.removeAttribute('aria-describedby');
  }

  /** Shows a message (with an optional action button) and moves focus to it. */
  notify(message, action) {
    this.notice.replaceChildren(message);
    if (action) {
      this.notice.append(' ', h('button', { type: 'button', onclick: action.run }, action.label));
    }
    this.notice.hidden = false;
    this.notice.focus();
  }

  payload() {
    const answers = {};
    for (const el of this.form.querySelectorAll('[name^="answers."]')) {
      const key = el.name.slice('answers.'.length);
      if (el.type === 'checkbox') answers[key] = el.checked;
      else if (el.value.trim()) answers[key] = el.value.trim();
    }
    const v = (n) => this.form.querySelector(`[name=${n}]`)?.value ?? '';
    // The time the visitor saw: booked at that time or not at all, and the server reads less.
    const seen = this.slots.find((s) => s.id === this.chosen) || {};
    return {
      slot_id: this.chosen, starts_at: seen.starts_at, ends_at: seen.ends_at,
      name: v('name'), email: v('email'), topic: v('topic'),
      priority: v('priority') || 'normal', answers, locale: this.lang, time_zone: this.zone,
      website: v('website'),
    };
  }

  /** Sends the request through the JSON API and shows what came of it. */
  async submit() {
    if (this.busy) return;
    this.notice.hidden = true;
    const bad = this.fields().filter((el) => this.check(el, false));
    this.slotError(this.chosen ? null : this.t('public.book.choose_slot'));
    if (bad.length || !this.chosen) {
      this.notify(this.t('public.book.fix_fields'));
      return;
    }
    this.busy = true;
    const label = this.button.textContent;
    this.button.textContent = this.t('public.book.sending');
    this.form.setAttribute('aria-busy', 'true');
    let resp = null;
    let data = {};
    // One key per request: sent again unchanged (after a lost answer), it keeps its key, and the
    // server answers as it did the first time instead of "taken" by the visitor's own booking.
    const body = JSON.stringify(this.payload());
    if (this.attempt?.body !== body) this.attempt = { body, key: newKey() };
    try {
      resp = await fetch(`${this.base}/api/bookings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'accept-language': this.lang,
          'idempotency-key': this.attempt.key,
        },
        body,
      });
      data = await resp.json().catch(() => ({}));
    } catch {
      resp = null;
    } finally {
      this.busy = false;
      this.button.textContent = label;
      this.form.removeAttribute('aria-busy');
    }
    const retry = { label: this.t('public.book.retry'), run: () => this.submit() };
    if (!resp) return this.notify(this.t('public.book.network_error'), retry);
    const code = data?.error?.code;
    if (resp.status === 201) {
      this.attempt = null;
      return this.success(data);
    }
    if (resp.status === 409 || resp.status === 404) return this.slotTaken();
    if (resp.status === 422 && code === 'invalid') return this.invalid(data.error.fields || {});
    if (resp.status === 429 && code === 'too_many_requests') {
      const seconds = resp.headers.get('retry-after') || '60';
      return this.notify(this.t('public.book.too_many', { seconds }), retry);
    }
    // Refusals that trying again at once cannot change (too many requests of this address
    // awaiting an answer, a filled-in honeypot): the server's own words, no retry button.
    if (code === 'too_many_pending' || code === 'spam_suspected') {
      return this.notify(data.error.message);
    }
    return this.notify(data?.error?.message || this.t('public.book.network_error'), retry);
  }

  invalid(fields) {
    const others = [];
    for (const [name, f] of Object.entries(fields)) {
      // The server's own words, in the visitor's language; the form's texts if it gave none.
      const message = f.message || this.t(`errors.field.${f.code}`);
      const el = this.form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (name === 'slot_id') this.slotError(message);
      else if (el && el.type !== 'hidden') this.fieldError(el, message);
      else others.push(message);
    }
    this.notify([this.t('public.book.fix_fields'), ...others].join(' '));
  }

  /** Someone else was faster: fresh slots, the typed answers kept, a clear message. */
  async slotTaken() {
    const taken = this.chosen;
    this.chosen = '';
    // The same days again, fresh: from the first slot shown to where the next load would start.
    const q = new URLSearchParams();
    if (this.slots[0]) q.set('from', this.slots[0].starts_at);
    if (this.next) q.set('to', this.next);
    this.slots = this.slots.filter((s) => s.id !== taken);
    try {
      const r = await fetch(`${this.base}/api/slots?${q}`);
      if (r.ok) this.slots = (await r.json()).slots;
    } catch {
      // The list without the taken slot is the best we know.
    }
    this.renderSlots();
    this.notify(`${this.t('public.book.slot_taken')} ${this.t('public.book.slots_refreshed')}`);
  }

  success(b) {
    const c = clock(this.lang, this.zone);
    // With email confirmation on, the request waits for the link in the visitor's inbox.
    const confirming = b.status === 'unconfirmed';
    const done = h('div', { class: 'done', tabindex: '-1' },
      h(`h${this.level + 1}`, {}, this.t(confirming ? 'public.requested.confirm_heading' : 'public.requested.heading')),
      h('p', { class: 'detail' }, c.span(new Date(b.starts_at), new Date(b.ends_at))),
      h('p', {}, this.t(confirming ? 'public.requested.confirm_next' : 'public.requested.next', { owner: this.owner })),
      b.status_url
        ? h('p', {}, h('a', { href: b.status_url }, this.t('public.requested.status_link')))
        : null);
    this.root.querySelector('.booking-area').replaceChildren(done);
    done.focus();
  }
}

/** The intake controls, drawn like the server's template draws them. */
function controls(t, intake) {
  const L = intake.limits;
  const required = t('public.intake.required');
  const list = [
    { id: 'name', name: 'name', kind: 'short_text', label: t('public.intake.name.label'), marker: required, required: true, max: L.name, autocomplete: 'name' },
    { id: 'email', name: 'email', kind: 'short_text', type: 'email', label: t('public.intake.email.label'), marker: required, required: true, max: L.email, autocomplete: 'email' },
    { id: 'topic', name: 'topic', kind: 'long_text', label: t('public.intake.topic.label'), marker: required, required: true, max: L.topic },
    { id: 'priority', name: 'priority', kind: 'choice', label: t('public.intake.priority.label'), marker: '',
      options: intake.priorities.map((p) => [p, t(`common.priority.${p}`), p === 'normal']) },
    ...intake.questions.map((q) => ({
      id: `q-${q.key}`, name: `answers.${q.key}`, kind: q.kind, label: q.label, required: q.required,
      marker: t(q.required ? 'public.intake.required' : 'public.intake.optional'),
      max: q.kind === 'long_text' ? L.long_text : L.short_text, placeholder: true,
      options: q.options.map((o) => [o, o, false]),
    })),
  ];
  return list.map((f) => {
    const error = h('p', { class: 'field-error', id: `${f.id}-error`, hidden: true });
    const label = h('label', { for: f.id }, f.label, ' ', h('span', { class: 'marker' }, f.marker));
    const common = { id: f.id, name: f.name, required: !!f.required };
    if (f.kind === 'checkbox') {
      return h('div', { class: 'field field-checkbox' },
        h('input', { ...common, type: 'checkbox', value: 'on' }), label, error);
    }
    let input;
    if (f.kind === 'long_text') input = h('textarea', { ...common, rows: 4, maxlength: f.max });
    else if (f.kind === 'choice') {
      input = h('select', common,
        f.placeholder ? h('option', { value: '' }, t('public.intake.choose')) : null,
        f.options.map(([v, l, sel]) => h('option', { value: v, selected: sel }, l)));
    } else {
      input = h('input', { ...common, type: f.type || 'text', maxlength: f.max, autocomplete: f.autocomplete });
    }
    return h('div', { class: `field field-${f.kind}` }, label, input, error);
  });
}

/** The honeypot field: off-screen, out of the tab order and hidden from screen readers, so
 * that only form-filling robots fill it in; the server refuses a request that has it. */
/** A fresh idempotency key: 128 random bits in hex (`crypto.randomUUID` needs https). */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function honeypot(t) {
  return h('div', { class: 'hp', 'aria-hidden': 'true' },
    h('label', { for: 'website' }, t('public.book.honeypot')),
    h('input', { id: 'website', name: 'website', type: 'text', value: '', tabindex: '-1', autocomplete: 'off' }));
}

const CSS_TEXT = `
:host { display: block; line-height: 1.5; --_accent: var(--guidance-accent, #1a5fb4);
  --_error: var(--guidance-error, #b3261e); --_border: var(--guidance-border, #767676);
  --_radius: var(--guidance-radius, .5rem); --_muted: var(--guidance-muted, #595959); }
[hidden] { display: none !important; }
h2 { font-size: 1.3em; margin: 0 0 .5rem; } h3 { font-size: 1em; margin: .75rem 0 .25rem; }
fieldset { border: 1px solid var(--_border); border-radius: var(--_radius); margin: 1rem 0; padding: .75rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
label { display: block; margin-top: .75rem; font-weight: 500; }
input, textarea, select, button { font: inherit; color: inherit; }
input:not([type=radio]):not([type=checkbox]), textarea, select { box-sizing: border-box; width: 100%;
  padding: .5rem; border: 1px solid var(--_border); border-radius: calc(var(--_radius) * .75); background: transparent; }
select option { color: initial; }
.field-checkbox { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; margin-top: .75rem; }
.field-checkbox label { display: inline; margin: 0; } .field-checkbox .field-error { width: 100%; }
.marker { font-weight: 400; color: var(--_muted); font-size: .9em; }
.zone { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; } .zone label { width: 100%; }
.days { display: flex; flex-wrap: wrap; gap: .4rem; margin: .25rem 0 .5rem; }
.days button[aria-pressed=true] { background: var(--_accent); color: var(--guidance-accent-text, #fff); border-color: var(--_accent); }
ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
.slot { display: inline-flex; gap: .4rem; align-items: center; margin: 0; padding: .4rem .7rem;
  border: 1px solid var(--_border); border-radius: 999px; cursor: pointer; font-weight: 400; transition: border-color .15s; }
.slot:has(input:checked) { border-color: var(--_accent); outline: 2px solid var(--_accent); }
button { padding: .5rem 1rem; border-radius: calc(var(--_radius) * .75); border: 1px solid var(--_border); background: transparent; cursor: pointer; }
button.primary { background: var(--_accent); color: var(--guidance-accent-text, #fff); border-color: var(--_accent); font-weight: 600; margin-top: 1rem; }
button:disabled { opacity: .6; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; }
.notice { border: 1px solid var(--_error); color: var(--_error); border-radius: var(--_radius); padding: .6rem .8rem; margin: 1rem 0; }
.field-error { color: var(--_error); margin: .25rem 0 0; }
.hint, .detail, .empty { color: var(--_muted); } .later { margin-top: .75rem; }
.done { border: 1px solid var(--_accent); border-radius: var(--_radius); padding: .5rem 1rem; }
.hp { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
`;

let sheet;

/** The booking form in a shadow root, for any site: `service` (the Guidance address; default:
 * where this script came from) and `lang`. Children are shown only when the service cannot be
 * reached, so a host page can put a plain link to the booking page there. */
export class GuidanceBooking extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS_TEXT);
    }
    root.adoptedStyleSheets = [sheet];
    this.load();
  }

  async load() {
    const root = this.shadowRoot;
    const base = (this.getAttribute('service') || new URL(import.meta.url).origin).replace(/\/$/, '');
    const lang = this.getAttribute('lang') || document.documentElement.lang || 'en';
    root.replaceChildren(h('div', { 'aria-busy': 'true' }));
    const get = async (path) => {
      const r = await fetch(base + path);
      if (!r.ok) throw new Error(`${path}: ${r.status}`);
      return r.json();
    };
    let intake;
    let first;
    try {
      [intake, first] = await Promise.all([
        get(`/api/intake?lang=${encodeURIComponent(lang)}`), get(`/api/slots?limit=${PAGE}`)]);
    } catch {
      root.replaceChildren(h('slot'));
      return;
    }
    const t = translator(intake.texts);
    const zone = detectZone();
    const { slots, next } = wholeDays(first.slots, clock(intake.lang, zone).key);
    root.replaceChildren(h('div', { class: 'guidance', lang: intake.lang },
      h('h2', {}, t('public.book.heading')),
      h('p', { class: 'session-line' }, sessionLine(t, intake.texts, intake.lang, slots)),
      h('p', {}, t('public.book.intro')),
      h('div', { class: 'booking-area' },
        h('form', { class: 'zone' },
          h('label', { for: 'tz' }, t('public.book.zone.label')),
          h('input', { id: 'tz', name: 'tz', value: zone })),
        h('div', { class: 'notice', role: 'alert', tabindex: '-1', hidden: true }),
        h('form', { class: 'booking', novalidate: true },
          h('input', { type: 'hidden', name: 'time_zone', value: zone }),
          h('fieldset', { class: 'slots' },
            h('legend', {}, t('public.book.slots.legend')),
            h('p', { class: 'field-error', id: 'slot_id-error', hidden: true }),
            h('div', { class: 'slot-list' })),
          h('fieldset', { class: 'intake' },
            h('legend', {}, t('public.book.intake.legend')),
            controls(t, intake),
            honeypot(t)),
          h('button', { type: 'submit', class: 'primary' }, t('public.book.submit')),
          h('p', { class: 'hint' }, t('public.book.what_next'))))));
    this.booker = new Booker(root, { base, lang: intake.lang, texts: intake.texts, zone, slots, next, level: 2 });
    this.dispatchEvent(new CustomEvent('guidance-ready', { bubbles: true }));
  }
}

if (!customElements.get('guidance-booking')) customElements.define('guidance-booking', GuidanceBooking);
