// Elements present or missing: an explicit 有 / 缺 per element, and 全部具备 as one action.
// Until every element is decided the choices are a draft (kept on this tablet, not scored);
// once all are decided the answer {missing: [...]} is saved, and each later tap saves.
import { h } from '../dom.js';

export function chips(elements, value, onset, draftKey = null) {
  const load = () => {
    if (value) {
      const missing = new Set(value.missing || elements.filter((e) => !(value.present || []).includes(e)));
      return new Map(elements.map((e) => [e, missing.has(e) ? 'missing' : 'present']));
    }
    const d = draftKey ? JSON.parse(localStorage.getItem(draftKey) || '{}') : {};
    return new Map(Object.entries(d).filter(([e]) => elements.includes(e)));
  };
  let state = load();
  const rows = new Map();
  const decide = (e, s) => {
    state.set(e, s);
    paint();
    if (state.size === elements.length) {
      if (draftKey) localStorage.removeItem(draftKey);
      onset({ missing: elements.filter((x) => state.get(x) === 'missing') });
    } else if (draftKey) {
      localStorage.setItem(draftKey, JSON.stringify(Object.fromEntries(state)));
    }
  };
  const all = h('button', { type: 'button', class: 'chip all', onclick: () => {
    state = new Map(elements.map((e) => [e, 'present']));
    paint();
    if (draftKey) localStorage.removeItem(draftKey);
    onset({ missing: [] });
  } }, '全部具备');
  const left = h('small', { class: 'chips-left' });
  const el = h('div', { class: 'chips' },
    ...elements.map((e) => {
      const has = h('button', { type: 'button', class: 'has', 'aria-label': `${e}：有`, onclick: () => decide(e, 'present') }, '有');
      const lack = h('button', { type: 'button', class: 'lack', 'aria-label': `${e}：缺`, onclick: () => decide(e, 'missing') }, '缺');
      const chip = h('div', { class: 'chip', dataset: { element: e } }, h('span', { class: 'chip-name' }, e), has, lack);
      rows.set(e, { chip, has, lack });
      return chip;
    }),
    all, left);
  function paint() {
    for (const [e, { chip, has, lack }] of rows) {
      const s = state.get(e);
      chip.className = s === 'present' ? 'chip present' : s === 'missing' ? 'chip missing' : 'chip';
      has.className = s === 'present' ? 'has on' : 'has';
      lack.className = s === 'missing' ? 'lack on' : 'lack';
    }
    const open = elements.length - state.size;
    left.textContent = open && state.size ? `还有 ${open} 项未选` : '';
  }
  paint();
  const set = (v) => { value = v; state = load(); paint(); };
  return { el, set };
}
