// The inspector's list: their own inspections (imported ones live on the lead's screen), the
// device's enrollment (a chip, and 设备登记), the device fingerprint and 备份.
import { $, h, toast, setStatus, errorText, localTime, chineseDay } from '../dom.js';
import { inspectionState } from './inspection.js';
import { enrollmentChip } from './enrollment.js';
import { syncChip, syncStrip } from './sync.js';

let polling = null;

/// Whether a summary is this tablet's own inspection (true/false), or unknown (undefined) when
/// the backend does not say where it came from.
export function isLocal(s, info) {
  if (s.origin !== undefined) return s.origin === 'local';
  if (s.local !== undefined) return s.local === true;
  if (s.imported !== undefined) return s.imported !== true;
  if (s.state !== undefined && s.state === 'imported') return false;
  if (s.device_id !== undefined && info && info.device_id) return s.device_id === info.device_id;
  return undefined;
}

export async function showList(ctx) {
  $('#main').dataset.inspection = '';
  $('#title').textContent = 'hallmark 医保服务评价';
  setStatus('');
  // The lead's review files in the bundle folder (issue #13): received before the list is read.
  const got = await ctx.backend.receiveReviews().catch((e) => { console.warn(e); return undefined; });
  if (got && got.refused.length) {
    toast(`复核意见文件无法接收：${got.refused.join('、')}（签名无效、证书不符或文件损坏，请组长重新导出）`);
  } else if (got && got.received > 0) {
    toast(`收到组长复核意见 ${got.received} 条：打开对应评价查看`, 'ok');
  }
  // The enrollment is only shown: a failure to read it never keeps the list from opening.
  const [all, info, enrollment, sync] = await Promise.all([ctx.backend.listInspections(), ctx.backend.appInfo(),
    ctx.backend.enrollmentStatus().catch((e) => { console.warn(e); return undefined; }),
    ctx.backend.syncStatus().catch((e) => { console.warn(e); return undefined; })]);
  const outbox = (id) => sync && sync.inspections.find((x) => x.id === id);
  ctx.info = info;
  const list = all.filter((s) => isLocal(s, info) !== false);
  const hiddenCount = all.length - list.length;
  $('#main').replaceChildren(
    h('section', { class: 'list' },
      h('div', { class: 'list-head' },
        h('div', { class: 'list-title' }, h('h1', {}, '评价记录'), enrollmentChip(enrollment)),
        h('div', { class: 'list-actions' },
          h('button', { class: 'ghost', id: 'enrollment-open', onclick: () => ctx.go.enrollment() }, '设备登记'),
          h('button', { class: 'primary', id: 'new-inspection', onclick: () => ctx.go.new() }, '＋ 新建评价'))),
      sync ? syncStrip(ctx, sync, () => showList(ctx)) : null,
      list.length === 0 ? h('p', { class: 'empty' }, '还没有评价记录。点击“新建评价”开始。') : null,
      ...list.map((s) => {
        const state = inspectionState({ ...s, finished_at: s.finished ? 'yes' : null }, null);
        const open = s.total_items - s.answered_items;
        return h('button', { class: 'card', dataset: { id: s.id }, onclick: () => ctx.go.inspection(s.id) },
          h('div', { class: 'card-main' },
            h('div', { class: 'card-title' }, s.site_name),
            h('div', { class: 'card-sub' }, s.rubric_title),
            h('div', { class: 'card-sub' }, `${chineseDay(s.visited_on)} · ${s.assessor_name} · 最近修改 ${localTime(s.last_change)}`)),
          h('div', { class: 'card-side' },
            h('span', { class: `badge state ${state.key}` }, state.label),
            h('span', { class: 'sync-slot' }, syncChip(outbox(s.id))),
            h('div', { class: 'card-score' }, s.total, h('small', {}, ' 分')),
            h('div', { class: 'card-sub' }, open ? `未作答 ${open} 项` : '已全部作答')));
      }),
      hiddenCount ? h('p', { class: 'card-sub' }, `另有 ${hiddenCount} 份导入的评价，在“导入与汇总”中查看。`) : null,
      h('p', { class: 'device', id: 'device' }, `本机签名指纹 ${info.fingerprint || '—'} · 数据目录 ${info.data_dir}`,
        ' ', h('button', { id: 'backup', onclick: backupNow(ctx) }, '备份'))));
  watchOutbox(ctx);
}

// While the list is shown, the chips and the strip follow the outbox (every 2 s).
function watchOutbox(ctx) {
  if (polling) clearInterval(polling);
  polling = setInterval(async () => {
    if (!$('#main').querySelector('section.list')) { clearInterval(polling); polling = null; return; }
    let sync;
    try { sync = await ctx.backend.syncStatus(); } catch (e) { console.warn(e); return; }
    for (const entry of sync.inspections) {
      const slot = $('#main').querySelector(`.card[data-id="${entry.id}"] .sync-slot`);
      if (slot) slot.replaceChildren(...[syncChip(entry)].filter(Boolean));
    }
    const strip = $('#sync-strip');
    const form = $('#sync-form');
    if (strip && !(form && !form.hidden && document.activeElement && form.contains(document.activeElement))) {
      strip.replaceWith(syncStrip(ctx, sync, () => showList(ctx)));
    }
  }, 2000);
}

// 备份: the database and photos into one file in the bundle folder (no device key).
const backupNow = (ctx) => async () => {
  setStatus('正在备份…');
  try {
    const path = await ctx.backend.backupStore();
    setStatus('');
    toast(`已备份到 ${path}`, 'ok');
  } catch (e) {
    setStatus('');
    toast(errorText(e));
  }
};
