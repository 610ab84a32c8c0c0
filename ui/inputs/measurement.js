// A reading with its unit and instrument. A reading outside the rubric's range is refused here:
// it stays in the field, highlighted, with the reason under it. The instrument is remembered
// per unit (the same hygrometer reads every humidity of the day).
import { h } from '../dom.js';

const UNIT_NAMES = { min: '分钟', minute: '分钟', minutes: '分钟' };
export const unitName = (u) => UNIT_NAMES[u] || u || '';

export function measurement(input, value, api) {
  const memory = `hallmark.instrument.${input.unit || input.kind}`;
  const field = h('input', { type: 'text', inputmode: 'decimal', class: 'reading', value: value ? value.value : '',
    placeholder: input.min != null && input.max != null ? `${input.min}–${input.max}` : '读数' });
  const instrument = h('input', { type: 'text', class: 'instrument', value: value?.instrument || '',
    placeholder: localStorage.getItem(memory) ? `仪器：${localStorage.getItem(memory)}` : '仪器名称及编号' });
  const commit = () => {
    const raw = field.value.trim();
    if (raw === '') return;
    const n = Number(raw);
    if (!Number.isFinite(n)) { api.reject(`“${raw}”不是数字`); return; }
    if ((input.min != null && n < Number(input.min)) || (input.max != null && n > Number(input.max))) {
      api.reject(`${raw} ${unitName(input.unit)} 超出有效范围（${input.min}–${input.max} ${unitName(input.unit)}），未保存`);
      return;
    }
    const v = { value: raw, unit: input.unit };
    let used = instrument.value.trim();
    if (!used && localStorage.getItem(memory)) used = localStorage.getItem(memory);
    if (used) { v.instrument = used; localStorage.setItem(memory, used); }
    v.read_at = new Date().toISOString();
    api.save(v);
  };
  field.addEventListener('change', commit);
  instrument.addEventListener('change', commit);
  const set = (v) => {
    value = v;
    if (document.activeElement !== field && !field.closest('.invalid')) field.value = v ? v.value : '';
    if (document.activeElement !== instrument && v?.instrument) instrument.value = v.instrument;
  };
  return { el: h('div', { class: 'measure' }, field, h('span', { class: 'unit' }, unitName(input.unit)), instrument), set, field };
}
