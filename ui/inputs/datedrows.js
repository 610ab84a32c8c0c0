// Rows with dates (issue #13): the trainings held (date, title) or the 帮办代办 cases checked
// (case, materials complete, submitted). Dates are typed 年-月-日 like the visit date. A row is
// saved once its dates are real days (and a case is not submitted before it was complete); a
// half-typed row stays here, marked, until it is — nothing typed is lost on a save. What counts
// (the 12 months before the visit, working days) is the scorer's: the item's explanation says.
import { h, canonical, realDay } from '../dom.js';

const SHAPES = {
  dated_list: {
    cols: [{ key: 'date', head: '日期', day: true, need: true }, { key: 'title', head: '名称', place: '如：医保政策业务培训' }],
    add: '＋ 添加一次',
    count: (n) => `已记录 ${n} 次`,
  },
  case_dates: {
    cols: [
      { key: 'case', head: '事项（服务对象）', place: '如：异地就医备案（王某）' },
      { key: 'complete', head: '材料齐全日期', day: true, need: true },
      { key: 'submitted', head: '提交日期', day: true, place: '未提交留空' },
    ],
    add: '＋ 添加一件',
    count: (n) => `已记录 ${n} 件`,
  },
};

/// Why a row cannot be saved yet, in Chinese; '' when it can.
function problem(kind, r) {
  const shape = SHAPES[kind];
  for (const c of shape.cols.filter((c) => c.day)) {
    const v = String(r[c.key] ?? '').trim();
    if (c.need && !v) return `请填写${c.head}`;
    if (v && !realDay(v)) return `${c.head}请按 年-月-日 填写，如 2026-11-25`;
  }
  if (kind === 'case_dates' && r.submitted && r.submitted < r.complete) return '提交日期早于材料齐全日期，请核对';
  return '';
}

const blank = (kind) => Object.fromEntries(SHAPES[kind].cols.map((c) => [c.key, '']));

/// The row as the answer holds it: empty text dropped, an empty submitted date left out.
function stored(kind, r) {
  const out = {};
  for (const c of SHAPES[kind].cols) {
    const v = String(r[c.key] ?? '').trim();
    if (v || c.need) out[c.key] = v;
  }
  return out;
}

export function datedRows(input, value, api) {
  const kind = input.kind;
  const shape = SHAPES[kind];
  // What the store holds (updated by `set`, whatever is on screen): a commit compares with it,
  // so a refused save is sent again with the next change.
  let saved = Array.isArray(value) ? value : null;
  // Rows on screen; each remembers its last complete version (`good`), which is what is saved
  // while an edit of it is half-typed — a saved row is never dropped by a slip of the keyboard.
  let rows = (saved || []).map((r) => ({ ...r, good: stored(kind, r) }));
  const body = h('tbody');
  const count = h('span', { class: 'sample-count' });
  const none = h('button', { type: 'button', class: 'ghost none' }, '记录为无');
  const valueNow = () => {
    const out = rows.map((r) => r.good).filter(Boolean);
    return out.length ? out : (Array.isArray(saved) && saved.length === 0 && !rows.length ? [] : null);
  };
  const commit = () => {
    const next = valueNow();
    paintCount();
    if (canonical(next) === canonical(saved)) return;
    api.save(next);
  };
  const paintCount = () => {
    const n = rows.filter((r) => r.good).length;
    const waiting = rows.filter((r) => problem(kind, r)).length;
    const fresh = rows.filter((r) => problem(kind, r) && !r.good).length;
    const edited = waiting - fresh;
    const recordedNone = Array.isArray(saved) && saved.length === 0 && !rows.length;
    count.textContent = recordedNone ? '已记录：无' : shape.count(n)
      + (fresh ? `，${fresh} 行未填写完整（未保存）` : '') + (edited ? `，${edited} 行的修改未保存（保留原记录）` : '');
    count.className = waiting ? 'sample-count short' : 'sample-count';
    none.hidden = rows.length > 0 || recordedNone;
  };
  const rowEl = (r) => {
    const note = h('div', { class: 'row-problem' });
    const tr = h('tr');
    const mark = () => {
      const p = problem(kind, r);
      const untouched = shape.cols.every((c) => !String(r[c.key] ?? '').trim());
      note.textContent = untouched ? '' : (p && r.good ? `${p}（保留原记录）` : p);
      tr.classList.toggle('invalid', Boolean(p) && !untouched);
      if (!p) r.good = stored(kind, r);
    };
    const cells = shape.cols.map((c) => {
      const field = h('input', {
        class: c.day ? `day ${c.key}` : c.key, value: r[c.key] ?? '', maxlength: c.day ? 10 : 200,
        inputmode: c.day ? 'numeric' : undefined, placeholder: c.place || (c.day ? '年-月-日' : ''),
      });
      field.addEventListener('change', () => { r[c.key] = field.value.trim(); mark(); commit(); });
      field.addEventListener('input', () => { r[c.key] = field.value.trim(); mark(); });
      return h('td', {}, field, c === shape.cols[shape.cols.length - 1] ? note : null);
    });
    const remove = h('button', { type: 'button', class: 'ghost remove', onclick: () => {
      rows = rows.filter((x) => x !== r);
      tr.remove();
      const next = valueNow();
      paintCount();
      if (canonical(next) === canonical(saved)) return;
      api.remove(next, '已删除一行');
    } }, '删除');
    tr.append(...cells, h('td', {}, remove));
    mark();
    return tr;
  };
  const paint = () => { body.replaceChildren(...rows.map(rowEl)); paintCount(); };
  const addRow = () => {
    const r = { ...blank(kind), good: null };
    rows = [...rows, r];
    const tr = rowEl(r);
    body.append(tr);
    paintCount();
    tr.querySelector('input').focus();
  };
  none.addEventListener('click', () => { api.save([]); });
  paint();
  const set = (v) => {
    const next = Array.isArray(v) ? v : null;
    const changed = canonical(next) !== canonical(saved);
    saved = next;
    // Repainted only when the store's value differs from the rows and nobody is typing here.
    const shown = rows.map((r) => r.good).filter(Boolean);
    if (changed && !body.contains(document.activeElement) && canonical(next || []) !== canonical(shown)) {
      rows = [...(next || []).map((r) => ({ ...r, good: stored(kind, r) })), ...rows.filter((r) => !r.good)];
      paint();
    } else {
      paintCount();
    }
  };
  const table = h('table', { class: 'sample dated' },
    h('thead', {}, h('tr', {}, ...shape.cols.map((c) => h('th', {}, c.head)), h('th', {}, ''))),
    body);
  return { el: h('div', { class: 'sample-wrap' }, table,
    h('div', { class: 'sample-foot' }, count, none, h('button', { type: 'button', class: 'ghost add', onclick: addRow }, shape.add))), set };
}
