// 整改跟踪 (issue #13): every deduction of a signed report is an item to follow at the hall —
// 指派 (an owner and a due date), 记录进展, 已整改 (with a photo), 重新打开 — each a signed step;
// 已核验 comes from a later report (hallmark rectify close). Grouped by hall; 导出整改台账 writes
// the XLSX into the bundle folder.
import { h, toast, errorText, ask, localTime, realDay } from '../dom.js';

const STEP = { assigned: '指派', progress: '进展', done: '已整改', reopened: '重新打开', verified: '核验通过' };

function stepLine(s) {
  const what = [
    STEP[s.kind] || s.kind,
    s.owner ? `责任人 ${s.owner}` : null,
    s.due_on ? `期限 ${s.due_on}` : null,
    s.note || null,
    s.by_report ? `依据报告 ${s.by_report}` : null,
  ].filter(Boolean).join('，');
  return h('li', {}, h('small', {}, localTime(s.at)), ` ${what}`, s.photo_sha256 ? '（附照片）' : '');
}

/// A JPEG chosen on this device, as bytes; null when nothing was chosen.
function pickPhoto() {
  return new Promise((resolve) => {
    const input = h('input', { type: 'file', accept: 'image/jpeg', class: 'rectify-photo', hidden: true });
    input.addEventListener('change', async () => {
      const f = input.files[0];
      input.remove();
      resolve(f ? new Uint8Array(await f.arrayBuffer()) : null);
    });
    // Closing the chooser without a file.
    input.addEventListener('cancel', () => { input.remove(); resolve(null); });
    document.body.append(input);
    input.click();
  });
}

export async function renderRectifications(ctx) {
  const b = ctx.backend;
  const items = await b.rectifications();
  const section = h('section', { class: 'rectifications', id: 'rectifications' });
  const paint = (list) => {
    const sites = [...new Set(list.map((r) => r.site))];
    const open = list.filter((r) => r.status !== 'verified').length;
    section.replaceChildren(
      h('h2', {}, '整改跟踪', h('small', {}, list.length ? `（共 ${list.length} 项，未核验 ${open} 项）` : '')),
      list.length
        ? h('div', { class: 'actions' }, h('button', { class: 'ghost', id: 'rectify-export', onclick: async () => {
          try { toast(`已导出整改台账：${await b.rectifyExport()}`, 'ok'); } catch (e) { toast(errorText(e)); }
        } }, '导出整改台账（XLSX）'))
        : h('p', { class: 'empty' }, '签发评价报告后，报告中的每项扣分将在这里列为整改项目。'),
      ...sites.map((site) => h('div', { class: 'rectify-site' },
        h('h3', {}, site),
        h('table', { class: 'rectify' },
          h('thead', {}, h('tr', {}, ...['项目', '扣分', '问题', '状态', '责任人/期限', '记录', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...list.filter((r) => r.site === site).map((r) => row(r)))))));
  };
  const replace = (next) => { const i = items.findIndex((x) => x.id === next.id); items[i] = next; paint(items); };
  const step = (r, kind, args) => async () => {
    try { replace(await b.rectifyStep(r.id, kind, args ? await args() : {})); toast('已记录', 'ok'); } catch (e) { if (e !== 'cancel') toast(errorText(e)); }
  };
  const need = (value) => { if (!value) throw 'cancel'; return value; };
  const row = (r) => {
    const actions = [];
    if (r.status !== 'verified' && r.status !== 'done') {
      actions.push(h('button', { class: 'ghost assign', onclick: step(r, 'assign', async () => {
        const owner = need(await ask({ title: `指派：${r.item_name}`, message: '受评单位负责整改的人员', reason: '责任人姓名', value: r.owner || '', ok: '下一步' }));
        let due = need(await ask({ title: `整改期限：${r.item_name}`, message: '按 年-月-日 填写，如 2027-01-31', reason: '年-月-日', value: r.due_on || '', ok: '指派' }));
        while (!realDay(due)) due = need(await ask({ title: '整改期限请按 年-月-日 填写', message: `“${due}”不是有效日期，如 2027-01-31`, reason: '年-月-日', value: due, ok: '指派' }));
        return { owner, dueOn: due };
      }) }, r.owner ? '改派' : '指派'));
      actions.push(h('button', { class: 'ghost progress', onclick: step(r, 'progress', async () => ({
        note: need(await ask({ title: `整改进展：${r.item_name}`, reason: '如：已订购功能分区标识，预计月底安装', ok: '记录' })),
      })) }, '记录进展'));
      actions.push(h('button', { class: 'ghost done', onclick: async () => {
        const note = await ask({ title: `已整改：${r.item_name}`, message: '说明整改结果，然后选择整改后的照片（JPEG）', reason: '如：功能分区标识已安装', ok: '选择照片' });
        if (!note) return;
        const bytes = await pickPhoto();
        if (!bytes) { toast('未选择照片，未记录'); return; }
        try { replace(await b.rectifyDone(r.id, note, bytes)); toast('已记录：已整改（待核验）', 'ok'); } catch (e) { toast(errorText(e)); }
      } }, '已整改'));
    }
    if (r.status === 'done') {
      actions.push(h('button', { class: 'ghost reopen', onclick: step(r, 'reopen', async () => ({
        note: need(await ask({ title: `重新打开：${r.item_name}`, reason: '为什么整改不到位', ok: '重新打开' })),
      })) }, '重新打开'));
    }
    return h('tr', { dataset: { item: r.item_id, status: r.status } },
      h('td', {}, r.item_name),
      h('td', { class: 'num' }, `${r.points_lost} / ${r.max_points}`),
      h('td', { class: 'finding' }, r.finding),
      h('td', {}, h('span', { class: `badge rectify-${r.status}` }, r.status_label)),
      h('td', {}, r.owner ? `${r.owner}${r.due_on ? `，${r.due_on}前` : ''}` : '—'),
      h('td', {}, r.steps.length ? h('ul', { class: 'steps' }, ...r.steps.map(stepLine)) : '—'),
      h('td', {}, h('div', { class: 'rectify-actions' }, ...actions)));
  };
  paint(items);
  return section;
}
