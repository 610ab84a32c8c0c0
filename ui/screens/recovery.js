// The store could not be opened: restore a backup from the bundle folder, or rebuild from
// its bundles. The damaged file is kept aside either way.
import { $, h, toast, setStatus, errorText, ERROR_TITLES } from '../dom.js';

const RECOVERY_WHY = {
  damaged: '本机数据库文件校验未通过（可能因断电、存储卡故障或文件被改动）。为防止错误的评分被签名，应用已停止写入和签名。',
  missing: '本机数据库文件不见了，但数据目录曾经使用过。',
};

export function showRecovery(ctx, r) {
  $('#title').textContent = 'hallmark 医保服务评价 · 数据恢复';
  // One run at a time: every button waits while a restore or rebuild runs.
  const busy = (on) => document.querySelectorAll('#recovery button').forEach((b) => { b.disabled = on; });
  const restore = async (path) => {
    busy(true);
    setStatus('正在恢复…');
    try {
      const done = await ctx.backend.restoreBackup(path);
      setStatus('');
      toast(`已从备份恢复 ${done.inspections} 次评价。损坏的数据库已保留为 ${done.moved_aside || '（无）'}`, 'ok');
      await ctx.go.list();
    } catch (e) { setStatus(''); busy(false); toast(errorText(e)); }
  };
  const rebuild = async () => {
    busy(true);
    setStatus('正在重建…');
    try {
      const done = await ctx.backend.rebuildStore();
      setStatus('');
      toast(`已从数据包重建 ${done.inspections} 次评价。损坏的数据库已保留为 ${done.moved_aside || '（无）'}`, 'ok');
      await ctx.go.list();
    } catch (e) { setStatus(''); busy(false); toast(errorText(e)); }
  };
  $('#main').replaceChildren(
    h('section', { class: 'recovery', id: 'recovery' },
      h('h1', {}, ERROR_TITLES[r.code] || '无法打开本机数据'),
      h('p', {}, RECOVERY_WHY[r.code] || '本机数据无法打开。'),
      h('p', {}, '损坏的文件不会被删除：恢复或重建前会改名保留，可交技术人员检查。'),
      h('h2', {}, '方法一：从备份恢复'),
      r.backups.length === 0
        ? h('p', { class: 'card-sub' }, `数据包文件夹（${r.bundle_dir}）中没有备份文件（.hallmark-backup）。可把备份复制到该文件夹后重新打开应用。`)
        : h('div', {}, ...r.backups.map((b) => h('button', { class: 'card', onclick: () => restore(b.path) },
          h('div', { class: 'card-main' }, h('div', { class: 'card-title' }, b.name),
            h('div', { class: 'card-sub' }, `${(b.size / 1048576).toFixed(1)} MB · 点此恢复`))))),
      h('h2', {}, '方法二：从数据包重建'),
      h('p', { class: 'card-sub' }, `用数据包文件夹中的 ${r.bundles} 个数据包（.hallmark）重建。只包含已导出或已导入的评价。`),
      h('button', { class: 'primary', disabled: r.bundles === 0, onclick: rebuild }, '从数据包重建'),
      h('details', {}, h('summary', {}, '技术信息'), h('pre', {}, `${r.message}\n数据目录：${r.data_dir}`))));
}
