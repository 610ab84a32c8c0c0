// Equipment per service window: one row of 有 / 缺 chips per window. A new window is a draft
// until its chips are decided (nothing is scored for a window nobody looked at). Deleting a
// window can be undone.
import { h, canonical } from '../dom.js';
import { chips } from './chips.js';

export function windows(input, value, api) {
  let list = value ? value.windows : [];
  let drafts = 0;
  const body = h('div', { class: 'window-list' });
  const commit = (ws) => api.save({ windows: ws });
  const paint = () => {
    body.replaceChildren(
      ...list.map((w, i) => h('div', { class: 'window', dataset: { window: w.window } },
        h('strong', {}, w.window),
        chips(input.elements, { missing: w.missing || [] }, (v) => {
          list = list.map((x, j) => (j === i ? { window: x.window, missing: v.missing } : x));
          commit(list);
        }).el,
        h('button', { type: 'button', class: 'ghost remove', onclick: () => {
          const gone = list[i].window;
          list = list.filter((_, j) => j !== i);
          paint();
          api.remove(list.length ? { windows: list } : null, `已删除${gone}`);
        } }, '删除窗口'))),
      ...Array.from({ length: drafts }, (_, k) => {
        const name = `${list.length + k + 1}号窗口`;
        return h('div', { class: 'window draft' }, h('strong', {}, name),
          chips(input.elements, undefined, (v) => {
            drafts -= 1;
            list = [...list, { window: name, missing: v.missing }];
            paint();
            commit(list);
          }).el,
          h('button', { type: 'button', class: 'ghost remove', onclick: () => { drafts -= 1; paint(); } }, '取消'));
      }));
  };
  paint();
  const add = h('button', { type: 'button', class: 'ghost add', onclick: () => { drafts += 1; paint(); } }, '＋ 添加窗口');
  const set = (v) => {
    value = v;
    const next = v ? v.windows : [];
    if (canonical(next) !== canonical(list)) { list = next; paint(); }
  };
  return { el: h('div', { class: 'windows' }, body, add), set };
}
