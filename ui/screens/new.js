// 新建评价. The date is a plain YYYY-MM-DD field with big 前一天 / 今天 / 后一天 buttons and
// the day written out in Chinese under it: the platform's date picker is in English on this
// WebView with 17 px cells, too small for a finger.
import { $, h, toast, errorText, chineseDay, today, realDay } from '../dom.js';

const LEVELS = [['province', '省级'], ['city', '市级'], ['county', '县（区）级'], ['township', '乡镇（街道）级']];

function shiftDay(s, days) {
  const base = realDay(s) ? s : today();
  const d = new Date(`${base}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/// A day field for a finger: YYYY-MM-DD typed, or stepped with buttons; 2026年11月25日 shown.
export function dayField(name, value) {
  const input = h('input', { name, class: 'day', inputmode: 'numeric', value, placeholder: '年-月-日（如 2026-11-25）', maxlength: 10, required: true });
  const shown = h('small', { class: 'day-shown' });
  const paint = () => { shown.textContent = realDay(input.value) ? chineseDay(input.value) : '请按 年-月-日 填写，如 2026-11-25'; shown.className = realDay(input.value) ? 'day-shown' : 'day-shown bad'; };
  input.addEventListener('input', paint);
  const step = (n) => () => { input.value = shiftDay(input.value, n); paint(); };
  paint();
  const el = h('div', { class: 'day-field' }, input,
    h('button', { type: 'button', class: 'ghost', onclick: step(-1) }, '前一天'),
    h('button', { type: 'button', class: 'ghost', onclick: () => { input.value = today(); paint(); } }, '今天'),
    h('button', { type: 'button', class: 'ghost', onclick: step(1) }, '后一天'),
    shown);
  return { el, input, valid: () => realDay(input.value) };
}

export async function showNew(ctx) {
  $('#main').dataset.inspection = '';
  const [rubrics, assigned, enrollment] = await Promise.all([ctx.backend.listRubrics(),
    // Offered, never required: no server, no network or no enrollment leaves the form as it was.
    ctx.backend.serverAssignments().catch((e) => { console.warn(e); return []; }),
    ctx.backend.enrollmentStatus().catch(() => null)]);
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const day = dayField('visited_on', today());
  const form = h('form', { class: 'new-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const fields = Object.fromEntries(new FormData(form).entries());
    const missing = [['site_name', '受评单位'], ['assessor_name', '评价人员']].filter(([k]) => !String(fields[k] || '').trim()).map(([, l]) => l);
    if (missing.length) { toast(`请填写${missing.join('、')}`); return; }
    if (!day.valid()) { toast('评价日期请按 年-月-日 填写，如 2026-11-25'); day.input.focus(); return; }
    try {
      const id = await ctx.backend.createInspection(fields);
      await ctx.go.inspection(id);
    } catch (e) { toast(errorText(e)); }
  } },
  h('h1', {}, '新建评价'),
  assigned.length ? h('div', { class: 'assignments', id: 'assignments' }, h('span', {}, '服务器分配的评价任务（点选后无需再填受评单位和评分细则）：'),
    ...assigned.map((a) => h('button', { type: 'button', class: 'ghost assignment', dataset: { id: a.id }, onclick: () => {
      form.elements.site_name.value = a.site;
      // The bundle names the assignment (format 3): the lead's panel is the assignment's.
      form.elements.assignment_id.value = a.id;
      form.elements.hall_id.value = a.hall_id || '';
      // A registry hall brings its address and level; a planned day inside today's window
      // is left to the inspector (the date field keeps today).
      if (a.address) form.elements.site_address.value = a.address;
      if (a.level && [...form.elements.site_level.options].some((o) => o.value === a.level)) form.elements.site_level.value = a.level;
      if ([...form.elements.rubric_id.options].some((o) => o.value === a.rubric_id)) form.elements.rubric_id.value = a.rubric_id;
      if (enrollment && !form.elements.assessor_name.value) {
        form.elements.assessor_name.value = enrollment.name || '';
        form.elements.assessor_unit.value = enrollment.unit || '';
        form.elements.assessor_title.value = enrollment.title || '';
      }
      toast(`已按任务 ${a.id} 填写受评单位${a.address ? '、地址、机构级别' : ''}和评分细则`, 'ok');
    } }, `${a.site}${a.role === 'lead' ? '（组长）' : ''}${a.planned_from ? `（计划 ${a.planned_from} 至 ${a.planned_to}）` : ''}`))) : null,
  h('input', { type: 'hidden', name: 'assignment_id', value: '' }),
  h('input', { type: 'hidden', name: 'hall_id', value: '' }),
  field('评分细则', h('select', { name: 'rubric_id' }, ...rubrics.map((r) => h('option', { value: r.id }, `${r.title}（第${r.version}版）`)))),
  field('受评单位', h('input', { name: 'site_name', placeholder: '如：某县医疗保障事务服务中心' })),
  field('地址', h('input', { name: 'site_address' })),
  field('机构级别', h('select', { name: 'site_level' }, ...LEVELS.map(([v, l]) => h('option', { value: v }, l)))),
  h('div', { class: 'field' }, h('span', {}, '评价日期'), day.el),
  field('评价人员', h('input', { name: 'assessor_name' })),
  field('工作单位', h('input', { name: 'assessor_unit' })),
  field('职务/职称', h('input', { name: 'assessor_title' })),
  field('电话', h('input', { name: 'assessor_phone', inputmode: 'tel' })),
  h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ghost', id: 'cancel-new', onclick: () => ctx.go.list() }, '取消'),
    h('button', { type: 'submit', class: 'primary', id: 'create' }, '开始评价')));
  $('#main').replaceChildren(form);
}
