// A count: − / number / +. The number field keeps what is typed until it is left.
import { h } from '../dom.js';

export function stepper(value, max, onset) {
  let n = typeof value === 'number' ? value : null;
  const field = h('input', { type: 'number', inputmode: 'numeric', min: 0, max: max ?? undefined, value: n ?? '', placeholder: '—',
    onchange: (e) => { if (e.target.value !== '') onset(Number(e.target.value)); } });
  const el = h('div', { class: 'stepper' },
    h('button', { type: 'button', class: 'minus', 'aria-label': '减一', onclick: () => onset(Math.max(0, (n ?? 0) - 1)) }, '−'),
    field,
    h('button', { type: 'button', class: 'plus', 'aria-label': '加一', onclick: () => onset(max != null ? Math.min(max, (n ?? 0) + 1) : (n ?? 0) + 1) }, '+'));
  const set = (v) => {
    n = typeof v === 'number' ? v : null;
    if (document.activeElement !== field) field.value = n ?? '';
  };
  return { el, set, get value() { return n; }, field };
}
