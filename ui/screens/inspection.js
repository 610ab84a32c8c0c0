// The checklist of one inspection. Built once when opened; a save then updates in place only
// what changed (the item's points, explanation and class, the sticky totals, the section
// scores), so focus, caret, open 考核内容与标准 panels and scroll stay where they are.
//
// Saves go through one queue (so per field they are serialized, and a view that returns is
// never older than one returned before it). While a key has a save queued, its value on screen
// is the one typed, never the one a returning view carries.
import {
  $, $$, h, setText, toast, setStatus, offerUndo, ask, errorText, fieldSentence, localTime, localClock, canonical,
  unansweredItems,
} from '../dom.js';
import { yesNo } from '../inputs/yesno.js';
import { stepper } from '../inputs/stepper.js';
import { chips } from '../inputs/chips.js';
import { windows } from '../inputs/windows.js';
import { measurement } from '../inputs/measurement.js';
import { ratio } from '../inputs/ratio.js';
import { timeSample } from '../inputs/timesample.js';
import { datedRows } from '../inputs/datedrows.js';

/// Where the inspection stands: 草稿 / 已完成 / 已更正 / 导入（只读）.
export function inspectionState(inspection, info) {
  const s = inspection.state;
  const imported = s === 'imported' || inspection.imported === true || inspection.origin === 'imported'
    || (inspection.local === false)
    || (s === undefined && info && info.device_id && inspection.device_id && inspection.device_id !== info.device_id);
  if (imported) return { key: 'imported', label: '导入（只读）' };
  if (s === 'amended' || inspection.amended) return { key: 'amended', label: '已更正' };
  if (s === 'finished' || inspection.finished_at || inspection.finished) return { key: 'done', label: '已完成' };
  return { key: 'draft', label: '草稿' };
}

export async function showInspection(ctx, id) {
  const view = await ctx.backend.openInspection(id);
  const st = {
    ctx, id, view,
    answers: { ...view.answers },
    pending: new Map(), // key → saves queued
    queue: Promise.resolve(),
    widgets: new Map(), // key → { set, error, shown, row, clear }
    items: new Map(), // item id → { el, points, explain, fieldset, shownExplain }
    amending: new Map(), // item id → reason
    onlyUnanswered: false,
    failed: false,
  };
  const state = inspectionState(view.inspection, ctx.info);
  if (state.key !== 'imported') localStorage.setItem('hallmark.last', id);
  render(st);
  const y = Number(localStorage.getItem(`hallmark.scroll.${id}`) || 0);
  if (y) window.scrollTo(0, y);
  return st;
}

// Resume where the inspector was: the scroll position, per inspection.
let scrollTimer = null;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => {
    const id = $('#main').dataset.inspection;
    if (id) localStorage.setItem(`hallmark.scroll.${id}`, String(Math.round(window.scrollY)));
  }, 200);
});

function labelOf(st, key) {
  for (const item of st.view.rubric.item) for (const i of item.input) if (i.id === key) return i.label;
  const v = st.view.rubric.veto.find((x) => `veto:${x.id}` === key);
  return v ? v.text : key;
}

function itemOfKey(st, key) {
  const item = st.view.rubric.item.find((it) => it.input.some((i) => i.id === key));
  return item ? item.id : null;
}

function readOnly(st) {
  const k = inspectionState(st.view.inspection, st.ctx.info).key;
  return k !== 'draft';
}

// ---------- saving ----------
function save(st, key, value) {
  const w = st.widgets.get(key);
  if (value === null) delete st.answers[key]; else st.answers[key] = value;
  if (w) { w.set(value ?? undefined); w.shown = canonical(value); w.showClear(value !== null); }
  st.pending.set(key, (st.pending.get(key) || 0) + 1);
  setStatus('保存中…', 'saving');
  const reason = st.amending.get(itemOfKey(st, key));
  const job = async () => {
    const b = st.ctx.backend;
    try {
      const view = value === null
        ? await b.clearAnswer(st.id, key)
        : reason ? await b.recordAmendment(st.id, key, value, reason) : await b.recordAnswer(st.id, key, value);
      st.view = view;
      if (reason) {
        const badge = $('#state');
        badge.textContent = '已更正';
        badge.className = 'badge state amended';
      }
      if (w) w.error(null);
    } catch (e) {
      st.failed = true;
      const text = errorText(e, (k) => labelOf(st, k));
      if (w) w.error(text); else toast(text);
    } finally {
      const n = st.pending.get(key) - 1;
      if (n) st.pending.set(key, n); else st.pending.delete(key);
      apply(st);
      if (!st.pending.size) {
        setStatus(st.failed ? '未保存' : '已保存 ✓', st.failed ? 'error' : 'saved');
        st.failed = false;
      }
    }
  };
  st.queue = st.queue.then(job);
  return st.queue;
}

/// Saves `next` (null clears) and offers 撤销 for a few seconds; undo records the old value
/// again as a new event (the log stays append-only).
function removeWithUndo(st, key, next, message) {
  const before = st.answers[key];
  save(st, key, next);
  if (before === undefined) return;
  offerUndo(message, () => {
    const w = st.widgets.get(key);
    if (w) w.set(before);
    save(st, key, before);
  });
}

// A returning view: adopt the answers not being saved, then repaint what changed.
function apply(st) {
  const { answers } = st.view;
  for (const [key, w] of st.widgets) {
    if (st.pending.has(key)) continue;
    const v = answers[key];
    if (v === undefined) delete st.answers[key]; else st.answers[key] = v;
    const json = canonical(v);
    if (json !== w.shown) { w.set(v); w.shown = json; w.showClear(v !== undefined); }
  }
  updateScores(st);
}

// ---------- rendering (once per open) ----------
function render(st) {
  const { view } = st;
  const { rubric, inspection } = view;
  const main = $('#main');
  main.dataset.inspection = st.id;
  $('#title').textContent = inspection.site_name;
  st.widgets.clear();
  st.items.clear();
  const groupsByParent = new Map();
  for (const g of rubric.group) {
    const k = g.parent || '';
    if (!groupsByParent.has(k)) groupsByParent.set(k, []);
    groupsByParent.get(k).push(g);
  }
  const sections = [];
  const walk = (parent, depth) => {
    for (const g of groupsByParent.get(parent) || []) {
      sections.push(h(depth === 0 ? 'h2' : 'h3', { id: `g-${g.id}`, class: 'group-head' }, `${g.number ? g.number + ' ' : ''}${g.name}`, h('small', {}, `（${g.points}分）`)));
      for (const item of rubric.item.filter((i) => i.group === g.id)) sections.push(renderItem(st, item));
      walk(g.id, depth + 1);
    }
  };
  walk('', 0);
  if (rubric.veto.length) sections.push(renderVetoes(st));
  const items = h('div', { class: 'items' }, ...sections);
  items.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.defaultPrevented) return;
    const t = ev.target;
    if (!(t instanceof HTMLInputElement) || t.type === 'checkbox') return;
    ev.preventDefault();
    focusNext(t);
  });
  main.replaceChildren(h('div', { class: 'inspection' }, renderSummary(st), renderReviews(st), h('div', { class: 'body' }, renderNav(st, groupsByParent), items)));
  updateScores(st);
  stickyOffset();
}

/// The lead's review of this sheet (issue #13), at the top: returned items first, each with the
/// lead's comment and a link to the item; answered and accepted ones after.
function renderReviews(st) {
  const reviews = st.view.reviews || [];
  if (!reviews.length) return null;
  const label = { returned: '组长退回，请复核修改', answered: '已修改，待组长确认', accepted: '组长已接受' };
  const keep = (r) => async () => {
    const reason = await ask({ title: `保留原答案：${r.item_name || r.item_id}`, message: '答案不作修改。请说明理由，理由随下次导出的数据包交组长。',
      reason: '如：现场用激光测距仪复测两次，读数无误', ok: '保留并答复' });
    if (!reason) return;
    try {
      st.view = await st.ctx.backend.keepAnswers(st.id, r.item_id, reason);
      toast('已答复组长：保留原答案。请重新导出数据包交组长', 'ok');
      rerenderReviews(st);
    } catch (e) { toast(errorText(e, (k) => labelOf(st, k))); }
  };
  const open = reviews.filter((r) => r.state === 'returned').length;
  return h('section', { class: `reviews${open ? ' open' : ''}`, id: 'reviews' },
    h('h2', {}, open ? `组长复核意见：${open} 项退回` : '组长复核意见'),
    h('ul', {}, ...reviews.map((r) => h('li', { class: `review ${r.state}`, dataset: { item: r.item_id || '' } },
      h('strong', {}, r.item_id ? `${r.item_name || r.item_id}` : '整张评分表'),
      h('span', { class: 'badge' }, r.kept ? '已答复，待组长确认' : (label[r.state] || r.state)),
      r.comment ? h('span', { class: 'comment' }, `“${r.comment}”`) : null,
      h('small', {}, localTime(r.at)),
      r.kept ? h('span', { class: 'kept' }, `已答复：保留原答案（${r.kept}）`) : null,
      r.item_id && r.state === 'returned'
        ? h('span', { class: 'review-actions' },
          h('button', { class: 'ghost', onclick: () => jumpTo(document.getElementById(`item-${r.item_id}`)) }, '去修改'),
          h('button', { class: 'ghost keep', onclick: keep(r) }, '保留原答案'))
        : null))),
    open ? h('p', { class: 'card-sub' }, '已完成的评价修改时需填写更正原因；修改后重新导出数据包交组长。') : null);
}

/// Redraws the review section after the assessor answered one.
function rerenderReviews(st) {
  const old = $('#reviews');
  const next = renderReviews(st);
  if (old && next) old.replaceWith(next); else if (old) old.remove();
}

function stickyOffset() {
  const bar = $('#bar');
  const summary = $('.summary');
  const set = () => document.documentElement.style.setProperty('--sticky', `${(bar?.offsetHeight || 0) + (summary?.offsetHeight || 0) + 12}px`);
  set();
  if (summary && !summary.observed) { summary.observed = true; new ResizeObserver(set).observe(summary); }
}

/// Focus the next input after `from` in the page (Enter, 下一项).
function focusNext(from) {
  const all = $$('.items input:not([type=file]):not([type=checkbox]), .items select, .items textarea')
    .filter((e) => !e.disabled && e.offsetParent !== null);
  const i = all.indexOf(from);
  const next = all[i + 1];
  if (!next) { from.blur(); return; }
  next.focus({ preventScroll: true });
  next.scrollIntoView({ block: 'nearest' });
}

function jumpTo(el) {
  if (!el) return;
  el.scrollIntoView({ block: 'start' });
}

function renderSummary(st) {
  const { view } = st;
  const { inspection, rubric } = view;
  const state = inspectionState(inspection, st.ctx.info);
  const total = h('div', { class: 'total', id: 'total' }, h('span', {}), h('small', {}, ` / ${view.sheet.max_total} 分`));
  const bar = h('div', {});
  const progress = h('span', { id: 'progress' });
  const unanswered = h('span', { id: 'unanswered', class: 'badge draft' });
  const veto = h('span', { class: 'badge veto', id: 'veto-badge', hidden: true }, '否决');
  const only = h('input', { type: 'checkbox', id: 'only-unanswered', onchange: (e) => { st.onlyUnanswered = e.target.checked; filterUnanswered(st, true); } });
  const menu = h('select', { id: 'section-menu', 'aria-label': '跳到章节', onchange: (e) => { jumpTo(document.getElementById(e.target.value)); e.target.value = ''; } },
    h('option', { value: '' }, '目录…'),
    ...rubric.group.map((g) => h('option', { value: `g-${g.id}` }, `${g.parent ? '　' : ''}${g.number ? g.number + ' ' : ''}${g.name}`)),
    rubric.veto.length ? h('option', { value: 'veto' }, '否决项') : null);
  st.summary = { total, bar, progress, unanswered, veto };
  const actions = [];
  if (state.key === 'draft') actions.push(h('button', { class: 'primary', id: 'finish', onclick: () => finish(st) }, '完成评价'));
  if (state.key !== 'imported') {
    actions.push(view.signature
      ? h('button', { class: 'ghost signed', id: 'sign', onclick: () => openSignpad(st), 'aria-label': '重新签名' }, h('img', { src: view.signature, alt: '手写签名' }))
      : h('button', { class: 'ghost', id: 'sign', onclick: () => openSignpad(st) }, '✍ 手写签名'));
    actions.push(h('button', { class: 'ghost', id: 'export', onclick: () => exportCurrent(st) }, '⇪ 导出数据包'));
    actions.push(h('progress', { id: 'export-progress', max: 1, value: 0, hidden: true }));
  }
  return h('div', { class: 'summary' },
    total,
    h('div', { class: 'progress' }, h('div', { class: 'bar' }, bar), progress),
    h('span', { class: `badge state ${state.key}`, id: 'state' }, state.label),
    inspection.finished_at ? h('span', { class: 'card-sub', id: 'finished-at' }, `完成于 ${localTime(inspection.finished_at)}`) : null,
    unanswered, veto,
    h('label', { class: 'toggle' }, only, ' 只看未作答'),
    menu,
    ...actions);
}

function renderNav(st, groupsByParent) {
  const { rubric } = st.view;
  st.nav = new Map();
  const link = (g, cls) => {
    const small = h('small', {});
    const a = h('a', { href: `#g-${g.id}`, class: cls, onclick: (ev) => { ev.preventDefault(); jumpTo(document.getElementById(`g-${g.id}`)); } }, `${g.number ? g.number + (cls === 'nav-top' ? ' ' : '. ') : ''}${g.name}`, small);
    st.nav.set(g.id, { a, small, cls, max: g.points });
    return a;
  };
  return h('nav', { class: 'groups' },
    ...rubric.group.filter((g) => !g.parent).map((top) => h('div', {}, link(top, 'nav-top'), ...(groupsByParent.get(top.id) || []).map((g) => link(g, 'nav-sub')))),
    rubric.veto.length ? h('a', { href: '#veto', class: 'nav-top', onclick: (ev) => { ev.preventDefault(); jumpTo($('#veto')); } }, '否决项') : null);
}

function updateScores(st) {
  const { sheet } = st.view;
  const s = st.summary;
  const open = unansweredItems(sheet);
  const done = sheet.items.length - open;
  setText(s.total.firstChild, String(sheet.total));
  s.bar.style.width = `${(100 * done / sheet.items.length).toFixed(1)}%`;
  setText(s.progress, `已答 ${done}/${sheet.items.length} 项`);
  setText(s.unanswered, open ? `未作答 ${open} 项` : '已全部作答');
  s.unanswered.className = open ? 'badge draft' : 'badge done';
  s.veto.hidden = !sheet.veto.vetoed;
  for (const g of sheet.groups) {
    const n = st.nav.get(g.id);
    if (!n) continue;
    setText(n.small, ` ${g.points}/${n.max}`);
    const cls = g.complete ? `${n.cls} done` : n.cls;
    if (n.a.className !== cls) n.a.className = cls;
  }
  const warnings = sheet.diagnostics.filter((d) => d.severity === 'warning');
  for (const score of sheet.items) {
    const e = st.items.get(score.id);
    if (!e) continue;
    const cls = score.status === 'complete' ? 'item done' : score.status === 'partial' ? 'item partial' : 'item open';
    const full = cls + (st.amending.has(score.id) ? ' amending' : '');
    if (e.el.className !== full) e.el.className = full;
    e.el.dataset.status = score.status;
    setText(e.points, `${score.points ?? '—'} / ${e.max} 分`);
    e.points.dataset.points = score.points ?? '';
    const lines = score.parts.map((p) => [p.points === null ? 'unanswered' : (p.points === p.max ? 'full' : 'lost'), p.explanation])
      .concat(warnings.filter((d) => d.item === score.id).map((d) => ['warning', `⚠ ${d.message}`]));
    const json = JSON.stringify(lines);
    if (json !== e.shownExplain) {
      e.shownExplain = json;
      e.explain.replaceChildren(...lines.map(([c, t]) => h('li', { class: c }, t)));
    }
    if (e.service) e.service.update();
  }
  if (st.vetoText) {
    st.vetoText.hidden = !sheet.veto.vetoed;
    setText(st.vetoText, sheet.veto.vetoed ? `否决：${sheet.veto.text}` : '');
  }
}

/// 只看未作答: hide the answered items and jump to the first unanswered one. Items answered
/// while the filter is on stay until it is applied again (nothing vanishes under the finger).
function filterUnanswered(st, jump) {
  for (const [, e] of st.items) e.el.hidden = st.onlyUnanswered && e.el.dataset.status === 'complete';
  if (jump && st.onlyUnanswered) jumpTo([...st.items.values()].map((e) => e.el).find((el) => !el.hidden));
}

function renderItem(st, item) {
  const score = st.view.sheet.items.find((s) => s.id === item.id);
  const state = inspectionState(st.view.inspection, st.ctx.info).key;
  const points = h('div', { class: 'item-points' });
  const explain = h('ul', { class: 'explain' });
  const fieldset = h('fieldset', { class: 'inputs', disabled: readOnly(st) || undefined },
    ...item.input.map((input) => inputRow(st, input, input.id)));
  const el = h('article', { class: 'item', id: `item-${item.id}`, dataset: { item: item.id, status: score.status } });
  const amend = state === 'done' || state === 'amended'
    ? h('button', { type: 'button', class: 'ghost amend', onclick: () => startAmend(st, item, fieldset, el) }, '更正')
    : null;
  const next = h('button', { type: 'button', class: 'ghost next', 'aria-label': '下一项', onclick: () => nextItem(st, el) }, '下一项 ↓');
  const entry = { el, points, explain, fieldset, max: item.points, shownExplain: null };
  st.items.set(item.id, entry);
  const service = item.service_log ? serviceLog(st, item) : null;
  entry.service = service;
  el.append(...[
    h('header', {},
      h('div', {}, h('span', { class: 'item-id' }, /\d/.test(item.id) ? item.id : `${item.number}.`), ' ', h('strong', {}, item.name)),
      h('div', { class: 'item-side' }, points, amend, next)),
    h('details', {}, h('summary', {}, '考核内容与标准'), h('p', {}, item.text), h('p', { class: 'criteria' }, item.criteria), h('p', { class: 'method' }, `方式：${item.method.join('、')}`)),
    fieldset, explain,
    service ? service.el : null,
    photos(st, item)].filter(Boolean));
  return el;
}

function nextItem(st, el) {
  let n = el.nextElementSibling;
  while (n && !(n.classList.contains('item') && !n.hidden) && n.id !== 'veto') n = n.nextElementSibling;
  if (!n) return;
  jumpTo(n);
  const first = n.querySelector('input:not([type=file]):not([type=checkbox]):not(:disabled), select:not(:disabled), button:not(:disabled):not(.next):not(.amend)');
  if (first) first.focus({ preventScroll: true });
}

async function startAmend(st, item, fieldset, el) {
  const reason = await ask({ title: `更正：${item.name}`, message: '该评价已完成。修改将作为更正记录保存，并注明原因。', reason: '更正原因（如：复核照片后发现漏记）', ok: '开始更正' });
  if (!reason) return;
  st.amending.set(item.id, reason);
  fieldset.disabled = false;
  el.classList.add('amending');
  const note = h('p', { class: 'amend-note' }, `更正中（原因：${reason}）`);
  fieldset.before(note);
}

function inputRow(st, input, key) {
  const reasonLine = h('div', { class: 'reason', role: 'alert' });
  const clear = h('button', { type: 'button', class: 'clear ghost', 'aria-label': '清除', onclick: () => removeWithUndo(st, key, null, '已清除') }, '⌫');
  const row = h('div', { class: `input kind-${input.kind}`, dataset: { input: key } });
  const api = {
    save: (v) => { entry.error(null); save(st, key, v); },
    reject: (msg) => entry.error(msg),
    remove: (next, message) => removeWithUndo(st, key, next, message),
  };
  const value = st.answers[key];
  const w = widgetFor(st, input, value, api);
  const entry = {
    set: w.set,
    shown: canonical(value),
    error(msg) {
      row.classList.toggle('invalid', Boolean(msg));
      setText(reasonLine, msg || '');
    },
    showClear(on) { clear.style.visibility = on ? 'visible' : 'hidden'; },
  };
  entry.showClear(value !== undefined);
  st.widgets.set(key, entry);
  const help = [input.help, input.expect_at_least ? `应不少于 ${input.expect_at_least}` : null].filter(Boolean).join('；');
  row.append(
    h('div', { class: 'label' }, input.label, help ? h('small', {}, help) : null),
    h('div', { class: 'control' }, w.el, clear),
    reasonLine);
  return row;
}

function widgetFor(st, input, value, api) {
  const key = input.id;
  switch (input.kind) {
    case 'yes_no': return yesNo(value, api.save, true);
    // A veto question: 否 (it did not happen) is the good answer, so it is not red.
    case 'veto': return yesNo(value, api.save, false);
    case 'count':
    case 'tally': return stepper(value, input.max, api.save);
    case 'elements': return chips(input.elements, value, api.save, `hallmark.chips.${st.id}.${key}`);
    case 'window_equipment': return windows(input, value, api);
    case 'measurement': return measurement(input, value, api);
    case 'ratio': return ratio(input, value, api);
    case 'time_sample': return timeSample(input, value, api);
    case 'dated_list':
    case 'case_dates': return datedRows(input, value, api);
    case 'choice': {
      // Unanswered, a level choice follows the site's level (default_from = "site.level").
      const buttons = input.options.map((o) => h('button', { type: 'button', dataset: { option: o.id }, onclick: () => api.save(o.id) }, o.label));
      const set = (v) => {
        const fallback = v === undefined && input.default_from === 'site.level' ? st.view.inspection.site_level : undefined;
        for (const b of buttons) {
          const id = b.dataset.option;
          b.className = v === id ? 'on' : (fallback === id ? 'on default' : '');
          b.title = fallback === id ? '按受评单位级别' : '';
        }
      };
      set(value);
      return { el: h('div', { class: 'segmented' }, ...buttons), set };
    }
    default: return { el: h('span', {}, '（此类输入暂不支持在平板上填写）'), set: () => {} };
  }
}

function renderVetoes(st) {
  const { rubric } = st.view;
  st.vetoText = h('p', { class: 'veto-text', hidden: true });
  return h('section', { id: 'veto', class: 'vetoes' },
    h('h2', {}, '否决项', h('small', {}, `（出现任一项：${rubric.result.veto_text}）`)),
    h('fieldset', { class: 'inputs', disabled: readOnly(st) || undefined },
      ...rubric.veto.map((v) => {
        const key = `veto:${v.id}`;
        const row = inputRow(st, { id: key, kind: 'veto', label: v.text }, key);
        row.classList.add('veto-row');
        return row;
      })),
    st.vetoText);
}

// ---------- service log: one entry per observed service ----------
function serviceLog(st, item) {
  const log = item.service_log;
  const inputOf = (id) => item.input.find((i) => i.id === id) || { id, label: id };
  const label = (id) => inputOf(id).label;
  const kinds = [['real', '实际经办', inputOf(log.real)], ['simulated', '模拟服务', inputOf(log.simulated)]];
  const count = h('div', { class: 'service-count' });
  const list = h('ol', { class: 'service-list' });
  const holder = h('div', {});
  const add = h('button', { type: 'button', class: 'ghost add', id: `service-new-${item.id}`, onclick: () => openForm() }, '＋ 记录一次服务');
  const el = h('section', { class: 'service-log' }, h('strong', {}, '服务观察记录'), count, list, holder, add);
  let shown = null;
  const update = () => {
    const parts = kinds.map(([, name, input]) => {
      const n = st.answers[input.id] ?? 0;
      const need = input.expect_at_least;
      return h('span', { class: need && n < need ? 'short' : 'ok' }, `${name} ${n} 个${need ? `（应不少于 ${need} 个）` : ''}`);
    });
    const entries = (st.view.services || []).filter((e) => e.item_id === item.id);
    const json = JSON.stringify([parts.map((p) => p.textContent), entries.map((e) => e.id)]);
    if (json === shown) return;
    shown = json;
    count.replaceChildren(...parts);
    list.replaceChildren(...entries.map((e) => {
      const occ = Object.entries(e.occurrences).filter(([, n]) => n > 0).map(([k, n]) => `${label(k)} ${n}`);
      const kind = (kinds.find(([k]) => k === e.kind) || [null, e.kind])[1];
      return h('li', {}, `${localClock(e.observed_at)} ${kind}${e.note ? ' · ' + e.note : ''} — ${occ.length ? occ.join('；') : '未发现问题'}`);
    }));
  };
  const openForm = () => {
    const draft = { kind: 'real', occ: {} };
    const kindButtons = kinds.map(([k, name]) => h('button', { type: 'button', class: k === draft.kind ? 'on' : '', onclick: () => {
      draft.kind = k;
      for (const b of kindButtons) b.className = b === kindButtons[kinds.findIndex(([x]) => x === k)] ? 'on' : '';
    } }, name));
    const note = h('input', { type: 'text', class: 'service-note', placeholder: '事项/说明（如 异地就医备案）' });
    const cats = log.categories.map((c) => {
      const w = stepper(0, undefined, (v) => { draft.occ[c] = v; w.set(v); });
      return h('div', { class: 'service-cat', dataset: { category: c } }, h('span', {}, label(c)), w.el);
    });
    const close = () => { holder.replaceChildren(); add.hidden = false; };
    const saveButton = h('button', { type: 'button', class: 'primary', id: `service-save-${item.id}`, onclick: async () => {
      setStatus('保存中…', 'saving');
      st.queue = st.queue.then(async () => {
        try {
          st.view = await st.ctx.backend.recordService(st.id, item.id, { kind: draft.kind, observed_at: new Date().toISOString(), note: note.value.trim(), occurrences: draft.occ });
          close();
          setStatus('已保存 ✓', 'saved');
        } catch (e) {
          setStatus('未保存', 'error');
          toast(errorText(e, (k) => labelOf(st, k)));
        }
        apply(st);
      });
    } }, '保存这次服务');
    holder.replaceChildren(h('div', { class: 'service-form' },
      h('div', { class: 'segmented' }, ...kindButtons), note, ...cats,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'ghost', onclick: close }, '取消'), saveButton)));
    add.hidden = true;
    note.focus({ preventScroll: true });
  };
  if (readOnly(st)) add.hidden = true;
  update();
  return { el, update };
}

// ---------- photos ----------
function photos(st, item) {
  const figures = h('div', { class: 'photo-list' });
  // A caption is changed, and a photo withdrawn with a reason, as events (the original stays in the log).
  const change = (what, run) => {
    st.queue = st.queue.then(async () => {
      setStatus('保存中…', 'saving');
      try {
        st.view = await run();
        setStatus(`${what} ✓`, 'saved');
      } catch (e) { setStatus('未保存', 'error'); toast(errorText(e)); }
      paint();
      apply(st);
    });
  };
  const editCaption = async (e) => {
    const caption = await ask({ title: '修改照片说明', reason: '照片说明', value: e.caption, ok: '保存说明' });
    if (caption === null || caption === e.caption) return;
    change('说明已修改', () => st.ctx.backend.editCaption(st.id, e.id, caption));
  };
  const withdraw = async (e) => {
    const reason = await ask({ title: '撤回这张照片', message: '撤回后照片不再显示、不计入报告；原始照片仍保留在记录中。', reason: '撤回原因（如：拍错了窗口）', ok: '撤回照片', danger: true });
    if (!reason) return;
    change('照片已撤回', () => st.ctx.backend.withdrawPhoto(st.id, e.id, reason));
  };
  const paint = () => figures.replaceChildren(...st.view.evidence.filter((e) => e.item_id === item.id).map((e) => h('figure', { dataset: { evidence: e.id } },
    h('img', { src: e.thumbnail, alt: e.caption || '照片', onclick: () => openPhoto(st, e.photo.sha256) }),
    h('figcaption', {}, e.caption || (e.photo.taken_at ? localTime(e.photo.taken_at) : '照片')),
    readOnly(st) ? null : h('div', { class: 'photo-actions' },
      h('button', { type: 'button', class: 'ghost caption-edit', onclick: () => editCaption(e) }, '改说明'),
      h('button', { type: 'button', class: 'ghost withdraw', onclick: () => withdraw(e) }, '撤回')))));
  paint();
  const caption = h('input', { type: 'text', class: 'caption', placeholder: '照片说明（可选）', dataset: { captionFor: item.id } });
  const file = h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'photo-input', dataset: { item: item.id } });
  file.addEventListener('change', () => {
    const files = [...file.files];
    st.queue = st.queue.then(async () => {
      for (const f of files) {
        setStatus('保存照片…', 'saving');
        try {
          const bytes = new Uint8Array(await f.arrayBuffer());
          st.view = await st.ctx.backend.attachPhoto(st.id, item.id, bytes, caption.value.trim() || f.name.replace(/\.[^.]+$/, ''));
          setStatus('照片已保存 ✓', 'saved');
        } catch (e) {
          setStatus('照片未保存', 'error');
          const plain = e && e.code === 'invalid' && !fieldSentence(e.fields);
          toast(`照片未保存（${f.name}）：${plain ? '文件已损坏或不是照片' : errorText(e)}`);
        }
      }
      caption.value = '';
      paint();
      apply(st);
    });
  });
  const ro = readOnly(st);
  return h('div', { class: 'photos' }, figures,
    ro ? null : caption,
    ro ? null : h('label', { class: 'photo-add' }, '＋ 拍照/选照片', file));
}

async function openPhoto(st, sha) {
  const v = $('#viewer');
  $('img', v).src = await st.ctx.backend.photoView(sha);
  v.hidden = false;
}

// ---------- finish, signature, export ----------
async function finish(st) {
  await st.queue;
  const open = unansweredItems(st.view.sheet);
  const ok = await ask({
    title: '完成评价',
    message: open ? `还有 ${open} 项未作答。仍要完成评价吗？完成后不能直接修改，只能逐项“更正”并注明原因。` : '完成后不能直接修改，只能逐项“更正”并注明原因。确定完成评价？',
    ok: '完成评价',
  });
  if (!ok) return;
  try {
    st.view = await st.ctx.backend.finishInspection(st.id);
    const y = window.scrollY;
    render(st);
    window.scrollTo(0, y);
  } catch (e) { toast(errorText(e)); }
}

function openSignpad(st) {
  const pad = $('#signpad');
  const canvas = $('#signature-canvas');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 4;
  ctx.lineCap = 'round';
  ctx.strokeStyle = '#142340';
  canvas.dataset.strokes = '0';
  pad.hidden = false;
  $('#sign-save').onclick = async () => {
    if (canvas.dataset.strokes === '0') { toast('请先在框内签名'); return; }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    try {
      st.view = await st.ctx.backend.saveSignature(st.id, new Uint8Array(await blob.arrayBuffer()));
      pad.hidden = true;
      const sign = $('#sign');
      sign.className = 'ghost signed';
      sign.replaceChildren(h('img', { src: st.view.signature, alt: '手写签名' }));
      setStatus('签名已保存', 'ok');
    } catch (e) { toast(errorText(e)); }
  };
  $('#sign-clear').onclick = () => openSignpad(st);
}

/// The signature canvas: drawing only (saving is set per inspection by openSignpad).
export function setupSignpad() {
  const canvas = $('#signature-canvas');
  const ctx = canvas.getContext('2d');
  let drawing = false;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener('pointerdown', (ev) => { drawing = true; canvas.setPointerCapture(ev.pointerId); ctx.beginPath(); ctx.moveTo(...at(ev)); });
  canvas.addEventListener('pointermove', (ev) => { if (!drawing) return; ctx.lineTo(...at(ev)); ctx.stroke(); canvas.dataset.strokes = String(Number(canvas.dataset.strokes) + 1); });
  canvas.addEventListener('pointerup', () => { drawing = false; });
  $('#sign-cancel').addEventListener('click', () => { $('#signpad').hidden = true; });
}

async function exportCurrent(st) {
  await st.queue;
  const bar = $('#export-progress');
  bar.hidden = false;
  bar.value = 0;
  setStatus('正在导出数据包…');
  try {
    const done = await st.ctx.backend.exportBundle(st.id, ({ done: n, total }) => { bar.max = total || 1; bar.value = n; });
    bar.value = bar.max;
    setStatus('数据包已导出', 'ok');
    toast(`已导出：${done.path}（${done.photos} 张照片，${done.events} 条记录；签名 ${done.fingerprint}）`, 'ok');
  } catch (e) { toast(errorText(e)); setStatus(''); } finally { setTimeout(() => { bar.hidden = true; }, 1500); }
}
