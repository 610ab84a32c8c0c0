// A rate: satisfied / total, or the percentage typed directly.
import { h } from '../dom.js';

export function ratio(input, value, api) {
  const num = h('input', { type: 'number', inputmode: 'numeric', min: 0, value: value?.numerator ?? '', placeholder: '满意数' });
  const den = h('input', { type: 'number', inputmode: 'numeric', min: 1, value: value?.denominator ?? '', placeholder: '总数' });
  const pct = h('input', { type: 'text', inputmode: 'decimal', value: value?.percent ?? '', placeholder: '或直接填 %' });
  const commitCounts = () => {
    if (num.value === '' || den.value === '') return;
    if (Number(num.value) > Number(den.value)) { api.reject('满意数不能大于总数，未保存'); return; }
    api.save({ numerator: Number(num.value), denominator: Number(den.value) });
  };
  num.addEventListener('change', commitCounts);
  den.addEventListener('change', commitCounts);
  pct.addEventListener('change', () => {
    const raw = pct.value.trim();
    if (raw === '') return;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 100) { api.reject(`${raw}% 不在 0–100% 之间，未保存`); return; }
    api.save({ percent: raw });
  });
  const set = (v) => {
    value = v;
    const keep = [num, den, pct].includes(document.activeElement);
    if (keep) return;
    num.value = v?.numerator ?? '';
    den.value = v?.denominator ?? '';
    pct.value = v?.percent ?? '';
  };
  return { el: h('div', { class: 'ratio' }, num, h('span', {}, '/'), den, h('span', { class: 'or' }, '或'), pct, h('span', { class: 'unit' }, '%')), set };
}
