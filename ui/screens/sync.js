// Sync with the server (issue #11): the outbox strip on the list (server, 立即同步, the last
// failure in Chinese), a chip per inspection (未同步 / 同步中 with a progress bar / 已同步 with the
// receipt's time), and the server-address form. The outbox itself runs in the app's backend.
import { h, toast, errorText, localTime } from '../dom.js';

/// The chip of one inspection, from its outbox entry (undefined: the backend does not say).
export function syncChip(entry) {
  if (!entry) return null;
  if (entry.state === 'syncing') {
    const pct = entry.total ? Math.floor((entry.done * 100) / entry.total) : 0;
    return h('span', { class: 'badge sync syncing', dataset: { sync: 'syncing' } }, `同步中 ${pct}%`,
      h('progress', { max: entry.total || 1, value: entry.done }));
  }
  if (entry.state === 'synced') {
    return h('span', { class: 'badge sync synced', dataset: { sync: 'synced' }, title: `服务器：${entry.server || ''}` }, `已同步 ${localTime(entry.received_at)}`);
  }
  return h('span', { class: 'badge sync unsynced', dataset: { sync: 'unsynced' } }, '未同步');
}

/// The strip above the list: where this tablet syncs to, and how it went last.
export function syncStrip(ctx, status, reload) {
  const input = h('input', { id: 'sync-server', placeholder: 'https://服务器地址:8443', value: status.server || '', size: 32 });
  const form = h('form', { class: 'sync-form', id: 'sync-form', hidden: Boolean(status.server), onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const s = await ctx.backend.syncSetServer(input.value);
      toast(s.server ? `同步服务器已设为 ${s.server}，正在同步…` : '已取消同步服务器', 'ok');
      reload();
    } catch (e) { toast(errorText(e)); }
  } }, input, h('button', { class: 'primary', id: 'sync-save', type: 'submit' }, '保存'));
  const state = !status.server ? '未设置同步服务器：数据只保存在本机（导出数据包仍可用）'
    : !status.enrolled ? `同步服务器 ${status.server}（本机尚未登记，不能同步：请先“设备登记”）`
    : `同步服务器 ${status.server}${status.last_attempt ? ` · 上次同步 ${localTime(status.last_attempt)}` : ''}`;
  return h('div', { class: 'sync-strip', id: 'sync-strip' },
    h('span', { id: 'sync-state' }, state),
    status.last_error ? h('span', { class: 'sync-error', id: 'sync-error' }, `${errorText(status.last_error)}${status.next_in ? `（${status.next_in} 秒后重试）` : ''}`) : null,
    status.server ? h('button', { class: 'ghost', id: 'sync-now', onclick: async () => { await ctx.backend.syncNow(); toast('正在同步…', 'ok'); } }, '立即同步') : null,
    h('button', { class: 'ghost', id: 'sync-edit', onclick: () => { form.hidden = !form.hidden; } }, status.server ? '更改服务器' : '设置服务器'),
    form);
}
