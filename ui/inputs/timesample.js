// A sample of service applications: matter, unit, standard time, actual time per row.
// Quick entry: a matter typed once is offered again (with its standard time and unit filled
// in), Enter in 实际用时 starts the next row. A new row is empty: only rows the inspector
// filled score. Under a rubric with `sample_size`, fewer rows need a reason (it prints in the
// report); the threshold comes from the rubric, never from a literal here.
import { h, canonical } from '../dom.js';

const blank = (unit) => ({ matter: '', unit, standard: '', actual: '' });
const filled = (r) => String(r.matter || '').trim() !== '' && String(r.standard ?? '').trim() !== '' && String(r.actual ?? '').trim() !== '';

export function timeSample(input, value, api) {
  const sized = input.sample_size != null;
  const need = input.sample_size ?? input.expect_at_least ?? null;
  const split = (v) => (Array.isArray(v) ? { rows: v, reason: '' } : v ? { rows: v.rows || [], reason: v.fewer_reason || '' } : { rows: [], reason: '' });
  let { rows, reason } = split(value);
  // Under an old rubric an unfilled row is refused by the scorer: such rows stay here until filled.
  let local = [];
  const listId = `matters-${input.id.replace(/\W/g, '-')}`;
  const datalist = h('datalist', { id: listId });
  const body = h('tbody');
  const count = h('span', { class: 'sample-count' });
  const reasonField = h('textarea', { class: 'fewer-reason', rows: 2, placeholder: '不足应抽件数的原因（如：本期仅受理32件），将印入评价报告', value: reason });
  const all = () => [...rows, ...local];
  const valueNow = () => {
    const saved = sized ? all() : all().filter(filled);
    local = sized ? [] : all().filter((r) => !filled(r));
    rows = saved;
    const r = reasonField.value.trim();
    return sized && r ? { rows: saved, fewer_reason: r } : saved;
  };
  const commit = () => { api.save(valueNow()); paintCount(); };
  const known = () => {
    const m = new Map();
    for (const r of all()) if (String(r.matter || '').trim()) m.set(r.matter.trim(), r);
    return m;
  };
  const paintList = () => datalist.replaceChildren(...[...known().keys()].map((m) => h('option', { value: m })));
  const paintCount = () => {
    const n = all().filter(filled).length;
    count.textContent = `已填写 ${n} 件${need ? ` / 应抽 ${need} 件` : ''}`;
    count.className = need && n < need ? 'sample-count short' : 'sample-count';
    reasonField.hidden = !(sized && need && n < need);
  };
  const rowEl = (r) => {
    const upd = (k, v) => { r[k] = v; };
    const matter = h('input', { class: 'matter', list: listId, value: r.matter, placeholder: '事项名称' });
    const unit = h('select', { class: 'unit-select' }, ...input.units.map((u) => h('option', { value: u, selected: u === r.unit || undefined }, u)));
    const standard = h('input', { class: 'standard', inputmode: 'decimal', value: r.standard ?? '', placeholder: '标准' });
    const actual = h('input', { class: 'actual', inputmode: 'decimal', value: r.actual ?? '', placeholder: '实际', enterkeyhint: 'next' });
    matter.addEventListener('change', () => {
      upd('matter', matter.value.trim());
      const same = all().find((x) => x !== r && String(x.matter || '').trim() === r.matter && String(x.standard ?? '').trim() !== '');
      if (same && String(standard.value).trim() === '') {
        standard.value = same.standard; upd('standard', same.standard);
        unit.value = same.unit; upd('unit', same.unit);
      }
      commit();
      paintList();
    });
    unit.addEventListener('change', () => { upd('unit', unit.value); commit(); });
    standard.addEventListener('change', () => { upd('standard', standard.value.trim()); commit(); });
    actual.addEventListener('change', () => { upd('actual', actual.value.trim()); commit(); });
    actual.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      ev.stopPropagation();
      upd('actual', actual.value.trim());
      addRow();
    });
    const remove = h('button', { type: 'button', class: 'ghost remove', onclick: () => {
      if (rows.includes(r)) rows = rows.filter((x) => x !== r); else local = local.filter((x) => x !== r);
      tr.remove();
      const next = valueNow();
      paintCount();
      api.remove(Array.isArray(next) && next.length === 0 && !all().length ? null : next, '已删除一行');
    } }, '删除');
    const tr = h('tr', {}, h('td', {}, matter), h('td', {}, unit), h('td', {}, standard), h('td', {}, actual), h('td', {}, remove));
    return tr;
  };
  const paint = () => { body.replaceChildren(...all().map(rowEl)); paintList(); paintCount(); };
  const addRow = () => {
    const last = all()[all().length - 1];
    const r = blank(last ? last.unit : input.units[0]);
    if (sized) rows = [...rows, r]; else local = [...local, r];
    const tr = rowEl(r);
    body.append(tr);
    if (sized) commit(); else paintCount();
    tr.querySelector('.matter').focus();
  };
  reasonField.addEventListener('change', commit);
  paint();
  const set = (v) => {
    value = v;
    const next = split(v);
    const editing = body.contains(document.activeElement) || document.activeElement === reasonField;
    if (!editing && canonical(next.rows) !== canonical(rows)) { rows = next.rows; paint(); }
    if (document.activeElement !== reasonField) reasonField.value = next.reason;
  };
  const table = h('table', { class: 'sample' },
    h('thead', {}, h('tr', {}, h('th', {}, '事项'), h('th', {}, '单位'), h('th', {}, '标准时限'), h('th', {}, '实际用时'), h('th', {}, ''))),
    body);
  return { el: h('div', { class: 'sample-wrap' }, datalist, table,
    h('div', { class: 'sample-foot' }, count, h('button', { type: 'button', class: 'ghost add', onclick: addRow }, '＋ 添加一行')), reasonField), set };
}
