// 是 / 否. Coloured by meaning: `good` is the answer that keeps the points (true on an item,
// false on a veto question, where 否 is the good answer and must not look red).
import { h } from '../dom.js';

export function yesNo(value, onset, good = true) {
  const yes = h('button', { type: 'button', onclick: () => onset(true) }, '是');
  const no = h('button', { type: 'button', onclick: () => onset(false) }, '否');
  const el = h('div', { class: 'segmented yes-no' }, yes, no);
  const set = (v) => {
    yes.className = v === true ? `on yes ${good === true ? 'good' : 'bad'}` : '';
    no.className = v === false ? `on no ${good === false ? 'good' : 'bad'}` : '';
  };
  set(value);
  return { el, set };
}
