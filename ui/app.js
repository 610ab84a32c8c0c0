// hallmark inspector UI. Talks to the backend only through backend.js (or a fake in a browser).
import { available, backend as tauriBackend } from './backend.js';

let backend = tauriBackend;
const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');

// ---------- small DOM helpers ----------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function toast(message, kind = 'error') {
  const t = $('#toast');
  t.textContent = message;
  t.className = kind;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

function setStatus(text, kind = '') {
  const s = $('#status');
  s.textContent = text;
  s.className = kind;
}

// The UI branches on the error's code, never on its text; the text says what and how to fix.
const ERROR_TITLES = {
  invalid: '输入有误，未保存', rubric: '评分细则无法加载', finished: '该评价已完成',
  io: '存储失败', database: '数据库错误', not_found: '找不到该评价',
  bundle: '数据包被拒绝（数据库未改变）', font: '缺少中文字体', layout: '报告排版失败',
  clock: '平板日期时间有误，未保存（请在系统设置中校准日期和时间）', damaged: '本机数据库已损坏，已停止写入和签名', missing: '找不到本机数据库', key_changed: '设备密钥已被更换，已停止签名',
};

function errorText(e) {
  if (e && typeof e === 'object' && e.message) return `${ERROR_TITLES[e.code] || '出错了'}：${e.message}`;
  return String(e);
}

const LEVELS = [['province', '省级'], ['city', '市级'], ['county', '县（区）级'], ['township', '乡镇（街道）级']];

// ---------- list of inspections ----------
async function showList() {
  current = null;
  localStorage.removeItem('hallmark.last');
  $('#title').textContent = 'hallmark 医保服务评价';
  setStatus('');
  const [list, info] = await Promise.all([backend.listInspections(), backend.appInfo()]);
  main.replaceChildren(
    h('section', { class: 'list' },
      h('div', { class: 'list-head' },
        h('h1', {}, '评价记录'),
        h('button', { class: 'primary', id: 'new-inspection', onclick: showNew }, '＋ 新建评价')),
      list.length === 0 ? h('p', { class: 'empty' }, '还没有评价记录。点击“新建评价”开始。') : null,
      ...list.map((s) => h('button', { class: 'card', dataset: { id: s.id }, onclick: () => openInspection(s.id) },
        h('div', { class: 'card-main' },
          h('div', { class: 'card-title' }, s.site_name),
          h('div', { class: 'card-sub' }, `${s.rubric_title}`),
          h('div', { class: 'card-sub' }, `${s.visited_on} · ${s.assessor_name} · 最近修改 ${s.last_change.replace('T', ' ').slice(0, 16)}`)),
        h('div', { class: 'card-side' },
          h('span', { class: s.finished ? 'badge done' : 'badge draft' }, s.finished ? '已完成' : '草稿'),
          h('div', { class: 'card-score' }, s.total, h('small', {}, ' 分')),
          h('div', { class: 'card-sub' }, `已答 ${s.answered_items}/${s.total_items}`)))),
      h('p', { class: 'device', id: 'device' }, `本机签名指纹 ${info.fingerprint || '—'} · 数据目录 ${info.data_dir}`,
        ' ', h('button', { id: 'backup', onclick: backupNow }, '备份'))));
}

// 备份: the database and photos into one file in the bundle folder (no device key).
async function backupNow() {
  setStatus('正在备份…');
  try {
    const path = await backend.backupStore();
    setStatus('');
    toast(`已备份到 ${path}`, 'ok');
  } catch (e) {
    setStatus('');
    toast(errorText(e));
  }
}

// ---------- recovery: the store could not be opened ----------
const RECOVERY_WHY = {
  damaged: '本机数据库文件校验未通过（可能因断电、存储卡故障或文件被改动）。为防止错误的评分被签名，应用已停止写入和签名。',
  missing: '本机数据库文件不见了，但数据目录曾经使用过。',
};

function showRecovery(r) {
  $('#title').textContent = 'hallmark 医保服务评价 · 数据恢复';
  const restore = async (path) => {
    setStatus('正在恢复…');
    try {
      const done = await backend.restoreBackup(path);
      setStatus('');
      toast(`已从备份恢复 ${done.inspections} 次评价。损坏的数据库已保留为 ${done.moved_aside || '（无）'}`, 'ok');
      await showList();
    } catch (e) { setStatus(''); toast(errorText(e)); }
  };
  const rebuild = async () => {
    setStatus('正在重建…');
    try {
      const done = await backend.rebuildStore();
      setStatus('');
      toast(`已从数据包重建 ${done.inspections} 次评价。损坏的数据库已保留为 ${done.moved_aside || '（无）'}`, 'ok');
      await showList();
    } catch (e) { setStatus(''); toast(errorText(e)); }
  };
  main.replaceChildren(
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

async function showNew() {
  const rubrics = await backend.listRubrics();
  const today = new Date().toISOString().slice(0, 10);
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const form = h('form', { class: 'new-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const fields = Object.fromEntries(f.entries());
    try {
      const id = await backend.createInspection(fields);
      await openInspection(id);
    } catch (e) { toast(errorText(e)); }
  } },
  h('h1', {}, '新建评价'),
  field('评分细则', h('select', { name: 'rubric_id' }, ...rubrics.map((r) => h('option', { value: r.id }, `${r.title}（v${r.version}）`)))),
  field('受评单位', h('input', { name: 'site_name', required: true, placeholder: '如：某县医疗保障事务服务中心' })),
  field('地址', h('input', { name: 'site_address' })),
  field('机构级别', h('select', { name: 'site_level' }, ...LEVELS.map(([v, l]) => h('option', { value: v }, l)))),
  field('评价日期', h('input', { name: 'visited_on', type: 'date', value: today, required: true })),
  field('评价人员', h('input', { name: 'assessor_name', required: true })),
  field('工作单位', h('input', { name: 'assessor_unit' })),
  field('职务/职称', h('input', { name: 'assessor_title' })),
  field('电话', h('input', { name: 'assessor_phone', inputmode: 'tel' })),
  h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ghost', onclick: showList }, '取消'),
    h('button', { type: 'submit', class: 'primary', id: 'create' }, '开始评价')));
  main.replaceChildren(form);
}

// ---------- the checklist ----------
let current = null; // { view, onlyUnanswered }

async function openInspection(id) {
  const view = await backend.openInspection(id);
  current = { view, onlyUnanswered: false };
  localStorage.setItem('hallmark.last', id);
  renderInspection();
  const y = Number(localStorage.getItem(`hallmark.scroll.${id}`) || 0);
  if (y) window.scrollTo(0, y);
}

// Resume exactly where the inspector was: the last inspection and its scroll position.
let scrollTimer = null;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => {
    if (current) localStorage.setItem(`hallmark.scroll.${current.view.inspection.id}`, String(Math.round(window.scrollY)));
  }, 200);
});

function pts(x) { return x === null || x === undefined ? '—' : x; }

async function save(key, value) {
  const id = current.view.inspection.id;
  setStatus('保存中…', 'saving');
  try {
    const view = value === null
      ? await backend.clearAnswer(id, key)
      : current.view.inspection.finished_at
        ? await amend(id, key, value)
        : await backend.recordAnswer(id, key, value);
    if (!view) { setStatus('未保存', 'error'); return; }
    current.view = view;
    setStatus('已保存 ✓', 'saved');
    renderInspection();
  } catch (e) {
    setStatus('未保存', 'error');
    toast(errorText(e));
    renderInspection(); // show the stored value again
  }
}

async function amend(id, key, value) {
  const reason = prompt('该评价已完成。请说明修改原因（作为更正记录保存）：');
  if (!reason) return null;
  return backend.recordAmendment(id, key, value, reason);
}

function renderInspection() {
  const { view } = current;
  const { rubric, sheet, answers, inspection } = view;
  const scrollY = window.scrollY;
  $('#title').textContent = `${inspection.site_name}`;
  const itemScores = new Map(sheet.items.map((s) => [s.id, s]));
  const answeredItems = sheet.items.filter((s) => s.status === 'complete').length;
  const groupsByParent = new Map();
  for (const g of rubric.group) {
    const k = g.parent || '';
    if (!groupsByParent.has(k)) groupsByParent.set(k, []);
    groupsByParent.get(k).push(g);
  }
  const groupScore = new Map(sheet.groups.map((g) => [g.id, g]));

  const summary = h('div', { class: 'summary' },
    h('div', { class: 'total', id: 'total' }, h('span', {}, sheet.total), h('small', {}, ` / ${sheet.max_total} 分`)),
    h('div', { class: 'progress' },
      h('div', { class: 'bar' }, h('div', { style: `width:${(100 * answeredItems / sheet.items.length).toFixed(1)}%` })),
      h('span', { id: 'progress' }, `已答 ${answeredItems}/${sheet.items.length} 项`)),
    sheet.complete ? h('span', { class: 'badge done' }, '已全部作答') : h('span', { class: 'badge draft' }, '未完成'),
    sheet.veto.vetoed ? h('span', { class: 'badge veto' }, '否决') : null,
    h('label', { class: 'toggle' },
      h('input', { type: 'checkbox', id: 'only-unanswered', checked: current.onlyUnanswered || undefined, onchange: (e) => { current.onlyUnanswered = e.target.checked; renderInspection(); } }),
      ' 只看未作答'),
    inspection.finished_at
      ? h('span', { class: 'badge done' }, `已完成 ${inspection.finished_at.slice(0, 10)}`)
      : h('button', { class: 'primary', id: 'finish', onclick: finish }, '完成评价'),
    view.signature
      ? h('button', { class: 'ghost signed', id: 'sign', onclick: openSignpad, title: '重新签名' }, h('img', { src: view.signature, alt: '手写签名' }))
      : h('button', { class: 'ghost', id: 'sign', onclick: openSignpad }, '✍ 手写签名'),
    h('button', { class: 'ghost', id: 'export', onclick: exportCurrent }, '⇪ 导出数据包'),
    h('progress', { id: 'export-progress', max: 1, value: 0, hidden: true }));

  const nav = h('nav', { class: 'groups' },
    ...rubric.group.filter((g) => !g.parent).map((top) => h('div', {},
      h('a', { href: `#g-${top.id}`, class: 'nav-top' }, `${top.number ? top.number + ' ' : ''}${top.name}`, h('small', {}, ` ${groupScore.get(top.id).points}/${top.points}`)),
      ...(groupsByParent.get(top.id) || []).map((g) => {
        const gs = groupScore.get(g.id);
        return h('a', { href: `#g-${g.id}`, class: gs.complete ? 'nav-sub done' : 'nav-sub' }, `${g.number ? g.number + '. ' : ''}${g.name}`, h('small', {}, ` ${gs.points}/${g.points}`));
      }))),
    rubric.veto.length ? h('a', { href: '#veto', class: 'nav-top' }, '否决项') : null);

  const sections = [];
  const walk = (parent, depth) => {
    for (const g of groupsByParent.get(parent) || []) {
      const items = rubric.item.filter((i) => i.group === g.id)
        .filter((i) => !current.onlyUnanswered || itemScores.get(i.id).status !== 'complete');
      sections.push(h(depth === 0 ? 'h2' : 'h3', { id: `g-${g.id}` }, `${g.number ? g.number + ' ' : ''}${g.name}`, h('small', {}, `（${g.points}分）`)));
      for (const item of items) sections.push(renderItem(item, itemScores.get(item.id), answers, view.evidence));
      walk(g.id, depth + 1);
    }
  };
  walk('', 0);
  if (rubric.veto.length) sections.push(renderVetoes(rubric, answers, sheet));

  main.replaceChildren(h('div', { class: 'inspection' }, summary, h('div', { class: 'body' }, nav, h('div', { class: 'items' }, ...sections))));
  window.scrollTo(0, scrollY);
}

function renderItem(item, score, answers, evidence) {
  const cls = score.status === 'complete' ? 'item done' : score.status === 'partial' ? 'item partial' : 'item open';
  const photos = evidence.filter((e) => e.item_id === item.id);
  return h('article', { class: cls, id: `item-${item.id}`, dataset: { item: item.id } },
    h('header', {},
      h('div', {}, h('span', { class: 'item-id' }, /\d/.test(item.id) ? item.id : `${item.number}.`), ' ', h('strong', {}, item.name)),
      h('div', { class: 'item-points', dataset: { points: score.points ?? '' } }, `${pts(score.points)} / ${item.points} 分`)),
    h('details', {}, h('summary', {}, '考核内容与标准'), h('p', {}, item.text), h('p', { class: 'criteria' }, item.criteria), h('p', { class: 'method' }, `方式：${item.method.join('、')}`)),
    ...item.input.map((input) => renderInput(input, answers[input.id])),
    h('ul', { class: 'explain' }, ...score.parts.map((p) => h('li', { class: p.points === null ? 'unanswered' : (p.points === p.max ? 'full' : 'lost') }, `${p.explanation}`)),
      ...current.view.sheet.diagnostics.filter((d) => d.severity === 'warning' && d.item === item.id).map((d) => h('li', { class: 'warning' }, `⚠ ${d.message}`))),
    item.service_log ? renderServiceLog(item, answers) : null,
    h('div', { class: 'photos' },
      ...photos.map((e) => h('figure', {},
        h('img', { src: e.thumbnail, alt: e.caption || '照片', onclick: () => openPhoto(e.photo.sha256) }),
        h('figcaption', {}, e.caption || e.photo.taken_at || e.photo.sha256.slice(0, 8)))),
      h('input', { type: 'text', class: 'caption', placeholder: '照片说明（可选）', dataset: { captionFor: item.id } }),
      h('label', { class: 'photo-add' }, '＋ 拍照/选照片',
        h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'photo-input', dataset: { item: item.id }, onchange: (ev) => addPhotos(item.id, ev.target) }))));
}

function renderInput(input, value) {
  const row = (control) => h('div', { class: `input kind-${input.kind}`, dataset: { input: input.id } },
    h('div', { class: 'label' }, input.label, input.help ? h('small', {}, input.help) : null),
    h('div', { class: 'control' }, control,
      value !== undefined ? h('button', { class: 'clear ghost', title: '清除', 'aria-label': '清除', onclick: () => save(input.id, null) }, '⌫') : null));
  switch (input.kind) {
    case 'yes_no': return row(yesNo(value, (v) => save(input.id, v)));
    case 'count':
    case 'tally': return row(stepper(value, input.max, (v) => save(input.id, v)));
    case 'elements': return row(chips(input.elements, value, (v) => save(input.id, v)));
    case 'window_equipment': return row(windows(input, value));
    case 'measurement': return row(measurement(input, value));
    case 'ratio': return row(ratio(input, value));
    case 'choice': {
      // Unanswered, a level choice follows the site's level (default_from = "site.level").
      const fallback = value === undefined && input.default_from === 'site.level' ? current.view.inspection.site_level : undefined;
      return row(h('div', { class: 'segmented' }, ...input.options.map((o) =>
        h('button', { class: value === o.id ? 'on' : (fallback === o.id ? 'on default' : ''), title: fallback === o.id ? '按受评单位级别' : undefined, onclick: () => save(input.id, o.id) }, o.label))));
    }
    case 'time_sample': return row(timeSample(input, value));
    default: return row(h('span', {}, input.kind));
  }
}

function yesNo(value, onset) {
  return h('div', { class: 'segmented yes-no' },
    h('button', { class: value === true ? 'on yes' : '', onclick: () => onset(true) }, '是'),
    h('button', { class: value === false ? 'on no' : '', onclick: () => onset(false) }, '否'));
}

function stepper(value, max, onset) {
  const n = typeof value === 'number' ? value : null;
  const input = h('input', { type: 'number', inputmode: 'numeric', min: 0, max: max ?? undefined, value: n ?? '', placeholder: '—',
    onchange: (e) => { if (e.target.value !== '') onset(Number(e.target.value)); } });
  return h('div', { class: 'stepper' },
    h('button', { class: 'minus', 'aria-label': '减一', onclick: () => onset(Math.max(0, (n ?? 0) - 1)) }, '−'),
    input,
    h('button', { class: 'plus', 'aria-label': '加一', onclick: () => onset((n ?? 0) + 1) }, '+'));
}

function chips(elements, value, onset) {
  const missing = new Set(value ? value.missing || elements.filter((e) => !(value.present || []).includes(e)) : []);
  const answered = value !== undefined;
  return h('div', { class: 'chips' },
    ...elements.map((e) => h('button', {
      class: !answered ? 'chip' : missing.has(e) ? 'chip missing' : 'chip present',
      title: missing.has(e) ? '缺少' : '具备',
      onclick: () => {
        const m = new Set(missing);
        if (!answered) m.add(e); else if (m.has(e)) m.delete(e); else m.add(e);
        onset({ missing: elements.filter((x) => m.has(x)) });
      },
    }, (answered ? (missing.has(e) ? '✕ ' : '✓ ') : '') + e)),
    !answered ? h('button', { class: 'chip all', onclick: () => onset({ missing: [] }) }, '全部具备') : null);
}

function windows(input, value) {
  const list = value ? value.windows : [];
  const commit = (ws) => save(input.id, { windows: ws });
  return h('div', { class: 'windows' },
    ...list.map((w, i) => h('div', { class: 'window' },
      h('strong', {}, w.window),
      chips(input.elements, { missing: w.missing || [] }, (v) => commit(list.map((x, j) => (j === i ? { window: x.window, missing: v.missing } : x)))),
      h('button', { class: 'ghost', onclick: () => { const rest = list.filter((_, j) => j !== i); if (rest.length) commit(rest); else save(input.id, null); } }, '删除窗口'))),
    h('button', { class: 'ghost add', onclick: () => commit([...list, { window: `${list.length + 1}号窗口`, missing: [] }]) }, '＋ 添加窗口'));
}

function measurement(input, value) {
  const field = h('input', { type: 'text', inputmode: 'decimal', value: value ? value.value : '', placeholder: `${input.min}–${input.max}` });
  const instrument = h('input', { type: 'text', class: 'instrument', value: value?.instrument || '', placeholder: '仪器（如 温湿度计 #2）' });
  const commit = () => {
    if (field.value.trim() === '') return;
    const v = { value: field.value.trim(), unit: input.unit };
    if (instrument.value.trim()) v.instrument = instrument.value.trim();
    v.read_at = new Date().toISOString();
    save(input.id, v);
  };
  field.addEventListener('change', commit);
  instrument.addEventListener('change', commit);
  return h('div', { class: 'measure' }, field, h('span', { class: 'unit' }, input.unit), instrument);
}

function ratio(input, value) {
  const num = h('input', { type: 'number', inputmode: 'numeric', min: 0, value: value?.numerator ?? '', placeholder: '满意数' });
  const den = h('input', { type: 'number', inputmode: 'numeric', min: 1, value: value?.denominator ?? '', placeholder: '总数' });
  const pct = h('input', { type: 'text', inputmode: 'decimal', value: value?.percent ?? '', placeholder: '或直接填 %' });
  const commitCounts = () => { if (num.value !== '' && den.value !== '') save(input.id, { numerator: Number(num.value), denominator: Number(den.value) }); };
  num.addEventListener('change', commitCounts);
  den.addEventListener('change', commitCounts);
  pct.addEventListener('change', () => { if (pct.value.trim() !== '') save(input.id, { percent: pct.value.trim() }); });
  return h('div', { class: 'ratio' }, num, h('span', {}, '/'), den, h('span', { class: 'or' }, '或'), pct, h('span', { class: 'unit' }, '%'));
}

function timeSample(input, value) {
  const rows = value || [];
  const commit = (rs) => save(input.id, rs);
  const table = h('table', { class: 'sample' },
    h('thead', {}, h('tr', {}, h('th', {}, '事项'), h('th', {}, '单位'), h('th', {}, '标准时限'), h('th', {}, '实际用时'), h('th', {}, ''))),
    h('tbody', {}, ...rows.map((r, i) => {
      const upd = (k, v) => commit(rows.map((x, j) => (j === i ? { ...x, [k]: v } : x)));
      return h('tr', {},
        h('td', {}, h('input', { value: r.matter, onchange: (e) => upd('matter', e.target.value) })),
        h('td', {}, h('select', { onchange: (e) => upd('unit', e.target.value) }, ...input.units.map((u) => h('option', { value: u, selected: u === r.unit || undefined }, u)))),
        h('td', {}, h('input', { inputmode: 'decimal', value: r.standard, onchange: (e) => upd('standard', e.target.value) })),
        h('td', {}, h('input', { inputmode: 'decimal', value: r.actual, onchange: (e) => upd('actual', e.target.value) })),
        h('td', {}, h('button', { class: 'ghost', onclick: () => commit(rows.filter((_, j) => j !== i)) }, '删除')));
    })));
  return h('div', { class: 'sample-wrap' }, table,
    h('div', { class: 'sample-foot' }, `已抽取 ${rows.length} 件${input.expect_at_least ? `（应不少于 ${input.expect_at_least} 件）` : ''}`,
      h('button', { class: 'ghost add', onclick: () => commit([...rows, { matter: `事项${rows.length + 1}`, unit: input.units[0], standard: 1, actual: 1 }]) }, '＋ 添加一行')));
}

// One entry per observed service (实际经办 / 模拟服务); each feeds the item's tallies.
function renderServiceLog(item, answers) {
  const log = item.service_log;
  const label = (id) => (item.input.find((i) => i.id === id) || { label: id }).label;
  const entries = (current.view.services || []).filter((e) => e.item_id === item.id);
  const real = answers[log.real] ?? 0;
  const simulated = answers[log.simulated] ?? 0;
  const draft = current.serviceDraft && current.serviceDraft.item === item.id ? current.serviceDraft : null;
  const kindName = { real: '实际经办', simulated: '模拟服务' };
  const summary = h('div', { class: 'service-count' },
    h('span', { class: real >= 10 ? 'ok' : 'short' }, `实际经办 ${real} 个`),
    h('span', { class: simulated >= 10 ? 'ok' : 'short' }, `模拟服务 ${simulated} 个`),
    real < 10 || simulated < 10 ? h('small', {}, '（各应不少于 10 个）') : null);
  const list = h('ol', { class: 'service-list' }, ...entries.map((e) => {
    const occ = Object.entries(e.occurrences).filter(([, n]) => n > 0).map(([k, n]) => `${label(k)} ${n}`);
    return h('li', {}, `${e.observed_at.replace('T', ' ').slice(11, 16)} ${kindName[e.kind] || e.kind}${e.note ? ' · ' + e.note : ''} — ${occ.length ? occ.join('；') : '未发现问题'}`);
  }));
  if (!draft) {
    return h('section', { class: 'service-log' }, h('strong', {}, '服务观察记录'), summary, list,
      h('button', { class: 'ghost add', id: `service-new-${item.id}`, onclick: () => { current.serviceDraft = { item: item.id, kind: 'real', note: '', occ: {} }; renderInspection(); } }, '＋ 记录一次服务'));
  }
  const set = (patch) => { Object.assign(draft, patch); renderInspection(); };
  return h('section', { class: 'service-log editing' }, h('strong', {}, '服务观察记录'), summary, list,
    h('div', { class: 'service-form' },
      h('div', { class: 'segmented' }, ...['real', 'simulated'].map((k) =>
        h('button', { class: draft.kind === k ? 'on' : '', onclick: () => set({ kind: k }) }, kindName[k]))),
      h('input', { type: 'text', class: 'service-note', placeholder: '事项/说明（如 异地就医备案）', value: draft.note, onchange: (e) => { draft.note = e.target.value; } }),
      ...log.categories.map((c) => h('div', { class: 'service-cat', dataset: { category: c } }, h('span', {}, label(c)),
        stepper(draft.occ[c] ?? 0, undefined, (v) => set({ occ: { ...draft.occ, [c]: v } })))),
      h('div', { class: 'actions' },
        h('button', { class: 'ghost', onclick: () => { current.serviceDraft = null; renderInspection(); } }, '取消'),
        h('button', { class: 'primary', id: `service-save-${item.id}`, onclick: () => saveService(item.id, draft) }, '保存这次服务'))));
}

async function saveService(itemId, draft) {
  const note = (document.querySelector('.service-note')?.value ?? draft.note).trim();
  setStatus('保存中…', 'saving');
  try {
    current.view = await backend.recordService(current.view.inspection.id, itemId, {
      kind: draft.kind, observed_at: new Date().toISOString(), note, occurrences: draft.occ,
    });
    current.serviceDraft = null;
    setStatus('已保存 ✓', 'saved');
  } catch (e) {
    setStatus('未保存', 'error');
    toast(errorText(e));
  }
  renderInspection();
}

function renderVetoes(rubric, answers, sheet) {
  return h('section', { id: 'veto', class: 'vetoes' },
    h('h2', {}, '否决项', h('small', {}, `（出现任一项：${rubric.result.veto_text}）`)),
    ...rubric.veto.map((v) => h('div', { class: 'input veto-row', dataset: { input: `veto:${v.id}` } },
      h('div', { class: 'label' }, v.text),
      h('div', { class: 'control' }, yesNo(answers[`veto:${v.id}`], (x) => save(`veto:${v.id}`, x))))),
    sheet.veto.vetoed ? h('p', { class: 'veto-text' }, `否决：${sheet.veto.text}`) : null);
}

async function addPhotos(itemId, input) {
  const id = current.view.inspection.id;
  const typed = (document.querySelector(`[data-caption-for="${itemId}"]`)?.value || '').trim();
  for (const file of input.files) {
    setStatus('保存照片…', 'saving');
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      current.view = await backend.attachPhoto(id, itemId, bytes, typed || file.name.replace(/\.[^.]+$/, ''));
      setStatus('照片已保存 ✓', 'saved');
    } catch (e) {
      setStatus('照片未保存', 'error');
      toast(errorText(e));
    }
  }
  renderInspection();
}

async function openPhoto(sha) {
  const v = $('#viewer');
  $('img', v).src = await backend.photoView(sha);
  v.hidden = false;
}

async function finish() {
  const missing = current.view.sheet.diagnostics.filter((d) => d.severity === 'missing').length;
  const msg = missing ? `还有 ${missing} 处未作答。仍要完成评价吗？完成后修改将作为更正记录。` : '完成后修改将作为更正记录。确定完成评价？';
  if (!confirm(msg)) return;
  try {
    current.view = await backend.finishInspection(current.view.inspection.id);
    renderInspection();
  } catch (e) { toast(errorText(e)); }
}

// ---------- handwritten signature ----------
function openSignpad() {
  const pad = $('#signpad');
  const canvas = $('#signature-canvas');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 4;
  ctx.lineCap = 'round';
  ctx.strokeStyle = '#142340';
  canvas.dataset.strokes = '0';
  pad.hidden = false;
}

function setupSignpad() {
  const canvas = $('#signature-canvas');
  const ctx = canvas.getContext('2d');
  let drawing = false;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener('pointerdown', (ev) => { drawing = true; canvas.setPointerCapture(ev.pointerId); ctx.beginPath(); ctx.moveTo(...at(ev)); });
  canvas.addEventListener('pointermove', (ev) => { if (!drawing) return; ctx.lineTo(...at(ev)); ctx.stroke(); canvas.dataset.strokes = String(Number(canvas.dataset.strokes) + 1); });
  canvas.addEventListener('pointerup', () => { drawing = false; });
  $('#sign-clear').addEventListener('click', openSignpad);
  $('#sign-cancel').addEventListener('click', () => { $('#signpad').hidden = true; });
  $('#sign-save').addEventListener('click', async () => {
    if (canvas.dataset.strokes === '0') { toast('请先在框内签名'); return; }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    try {
      current.view = await backend.saveSignature(current.view.inspection.id, new Uint8Array(await blob.arrayBuffer()));
      $('#signpad').hidden = true;
      renderInspection();
      setStatus('签名已保存', 'ok');
    } catch (e) { toast(errorText(e)); }
  });
}

// ---------- bundles: export (inspector) ----------
async function exportCurrent() {
  const bar = $('#export-progress');
  bar.hidden = false;
  bar.value = 0;
  setStatus('正在导出数据包…');
  try {
    const done = await backend.exportBundle(current.view.inspection.id, ({ done, total }) => { bar.max = total || 1; bar.value = done; });
    bar.value = bar.max;
    setStatus('数据包已导出', 'ok');
    toast(`已导出：${done.path}（${done.photos} 张照片，${done.events} 条记录；签名 ${done.fingerprint}）`, 'ok');
  } catch (e) { toast(errorText(e)); setStatus(''); } finally { setTimeout(() => { bar.hidden = true; }, 1500); }
}

// ---------- the lead: import, merge, report ----------
async function showLead() {
  current = null;
  localStorage.removeItem('hallmark.last');
  $('#title').textContent = '组长：导入与汇总';
  setStatus('');
  const [inbox, groups, due, info] = await Promise.all([backend.bundleInbox(), backend.mergeView(), backend.reevaluationsDue(), backend.appInfo()]);
  const results = h('ul', { class: 'import-results', id: 'import-results' });
  const bar = h('progress', { id: 'import-progress', max: 1, value: 0, hidden: true });
  const boxes = inbox.files.map((f) => h('label', { class: 'inbox-file' }, h('input', { type: 'checkbox', checked: true, value: f.path }), ` ${f.name}`, h('small', {}, ` ${(f.size / 1048576).toFixed(1)} MB`)));
  const importSelected = async () => {
    const paths = boxes.map((b) => $('input', b)).filter((i) => i.checked).map((i) => i.value);
    if (!paths.length) { toast('请选择要导入的数据包'); return; }
    bar.hidden = false;
    try {
      const out = await backend.importBundles(paths, ({ done, total }) => { bar.max = total || 1; bar.value = done; });
      await showLead();
      const list = $('#import-results');
      for (const r of out) {
        const unknown = r.result && !r.result.known_as;
        list.append(h('li', { class: r.error ? 'refused' : (unknown ? 'flagged' : 'ok') }, r.line));
      }
    } catch (e) { toast(errorText(e)); }
  };
  const roster = h('form', { class: 'roster', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(roster).entries());
    try { const fp = await backend.rosterAdd(f.key, f.name); await showLead(); toast(`已加入名册：${f.name} ${fp}`, 'ok'); } catch (e) { toast(errorText(e)); }
  } },
  h('input', { name: 'key', placeholder: '评价人员平板的签名公钥（64位十六进制）', required: true, size: 70 }),
  h('input', { name: 'name', placeholder: '姓名', required: true }),
  h('button', { class: 'ghost', type: 'submit' }, '加入名册'));

  main.replaceChildren(h('section', { class: 'lead' },
    due.length ? h('div', { class: 'due', id: 'due' }, h('h2', {}, '复评到期提醒'),
      ...due.map((d) => h('p', {}, `${d.site}：评价结论有效期至 ${d.valid_until}（${d.days_left >= 0 ? `还剩 ${d.days_left} 天` : `已过期 ${-d.days_left} 天`}），请安排复评`))) : null,
    h('h2', {}, '导入数据包'),
    h('p', { class: 'card-sub' }, `数据包目录：${inbox.dir}（U盘或共享目录可通过 HALLMARK_BUNDLE_DIR 指定）`),
    inbox.files.length ? h('div', { class: 'inbox', id: 'inbox' }, ...boxes) : h('p', { class: 'empty' }, '目录中没有 .hallmark 数据包。'),
    h('div', { class: 'actions' }, h('button', { class: 'primary', id: 'import', onclick: importSelected, disabled: !inbox.files.length }, '校验并导入所选'), bar),
    results,
    h('details', {}, h('summary', {}, '评价人员密钥名册'), roster, h('p', { class: 'device' }, `本机公钥 ${info.public_key}`)),
    h('h2', {}, '汇总'),
    groups.length ? null : h('p', { class: 'empty' }, '还没有导入任何评价。'),
    ...groups.map(renderGroup)));
}

function renderGroup(g) {
  const p = g.panel;
  const names = g.assessors.map((a) => a.name);
  const scoreRow = (sp, label) => h('tr', {},
    h('th', {}, label), h('td', {}, sp.max_points),
    ...sp.scores.map((s, k) => h('td', { class: sp.outliers[k] ? 'outlier' : '' }, s === null ? '—' : s)),
    h('td', {}, sp.mean ?? '—'), h('td', {}, sp.min ?? '—'), h('td', {}, sp.max ?? '—'), h('td', {}, sp.stddev ?? '—'));
  const table = p ? h('table', { class: 'merge' },
    h('thead', {}, h('tr', {}, h('th', {}, '评分项'), h('th', {}, '分值'), ...names.map((n) => h('th', {}, n)), h('th', {}, '均值'), h('th', {}, '最低'), h('th', {}, '最高'), h('th', {}, '标准差'))),
    h('tbody', {}, ...p.items.map((sp) => scoreRow(sp, sp.name)), scoreRow(p.total, '总分'))) : h('p', { class: 'refused' }, `不能汇总：${g.error}`);
  const sources = h('ul', { class: 'sources' }, ...g.assessors.map((a) => h('li', {},
    `${a.name}：总分 ${a.total}${a.complete ? '' : '（不完整）'} · 签名者 ${a.fingerprint} `,
    a.local ? h('span', { class: 'badge' }, '本机') : (a.known_as ? h('span', { class: 'badge done' }, `名册：${a.known_as}`) : h('span', { class: 'badge veto' }, '⚠ 不在名册中')),
    ` · 数据包 ${a.bundles} 个 · 照片 ${Object.values(a.photos).reduce((n, ps) => n + ps.length, 0)} 张`,
    ...a.conflicts.map((c) => h('div', { class: 'conflict' }, `⚠ 冲突 ${c.key}：`, c.sides.map((s) => `${s.bundle_file} 记为 ${JSON.stringify(s.value)}（${s.recorded_at}）`).join('；'), `；现值 ${JSON.stringify(c.current)}`)))));
  const photos = h('details', { class: 'evidence' }, h('summary', {}, '各评价人员的证据照片'));
  photos.addEventListener('toggle', async () => {
    if (!photos.open || photos.dataset.loaded) return;
    photos.dataset.loaded = '1';
    const items = new Map();
    for (const a of g.assessors) for (const [item, ps] of Object.entries(a.photos)) for (const ph of ps) {
      if (!items.has(item)) items.set(item, []);
      items.get(item).push([a.name, ph]);
    }
    const itemNames = new Map((p ? p.items : []).map((sp) => [sp.id, sp.name]));
    for (const [item, list] of items) {
      const row = h('div', { class: 'evidence-row' }, h('div', { class: 'evidence-item' }, itemNames.get(item) || item));
      for (const [name, ph] of list) {
        const img = h('img', { alt: `${name} ${ph.sha256.slice(0, 12)}`, onclick: () => openPhoto(ph.sha256) });
        row.append(h('figure', {}, img, h('figcaption', {}, `${name} · ${ph.sha256.slice(0, 12)}`)));
        backend.thumbView(ph.sha256).then((u) => { img.src = u; }).catch(() => {});
      }
      photos.append(row);
    }
  });
  const leader = h('select', { name: 'leader' }, ...names.map((n) => h('option', { value: n }, n)));
  const form = h('form', { class: 'report-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form).entries());
    setStatus('正在生成评价报告…');
    try {
      const r = await backend.makeReport(g.site, g.rubric_id, { site_head: f.site_head, site_phone: f.site_phone, site_email: f.site_email, leader: f.leader });
      setStatus('报告已生成并签名', 'ok');
      form.append(h('p', { class: 'ok report-made' }, `报告编号 ${r.number}：${r.pdf}（签名：${r.sidecar}）；最终得分 ${r.final_score ?? '—'}，${r.conclusion}${r.valid_until ? `，有效期至 ${r.valid_until}` : ''}`));
    } catch (e) { toast(errorText(e)); setStatus(''); }
  } },
  h('input', { name: 'site_head', placeholder: '受评单位负责人' }),
  h('input', { name: 'site_phone', placeholder: '电话' }),
  h('input', { name: 'site_email', placeholder: '电子邮箱' }),
  h('label', {}, '组长 ', leader),
  h('button', { class: 'primary', type: 'submit' }, '生成评价报告（PDF，已签名）'),
  ...['xlsx', 'csv'].map((fmt) => h('button', { class: 'ghost', type: 'button', dataset: { format: fmt }, onclick: async () => {
    try { toast(`已导出评分明细：${await backend.exportScores(g.site, g.rubric_id, fmt)}`, 'ok'); } catch (e) { toast(errorText(e)); }
  } }, `导出评分明细 ${fmt.toUpperCase()}`)));
  return h('article', { class: 'group', dataset: { rubric: g.rubric_id } },
    h('h3', {}, `${g.site} · ${g.rubric_title || g.rubric_id}`),
    p ? h('p', { class: `conclusion ${p.conclusion.outcome}` }, `最终得分 ${p.final_score ?? '—'}（${g.assessors.length} 名评价人员平均）：${p.conclusion.text}`) : null,
    ...(p ? p.warnings.map((w) => h('p', { class: 'card-sub' }, `提示：${w}`)) : []),
    table,
    p && [...p.items, p.total].some((sp) => sp.outliers.includes(true)) ? h('p', { class: 'card-sub' }, '标红：与其他评价人员均值相差超过该项分值的四分之一，请核对。') : null,
    sources, photos, form);
}

// ---------- start ----------
async function start() {
  $('#home').addEventListener('click', () => showList().catch((e) => toast(errorText(e))));
  $('#lead').addEventListener('click', () => showLead().catch((e) => toast(errorText(e))));
  setupSignpad();
  $('#viewer .close').addEventListener('click', () => { $('#viewer').hidden = true; });
  if (!available) {
    // Plain browser: run on the fake backend with a fixture (see ui/test/).
    const { fakeBackend } = await import('./fake-backend.js');
    const fixture = await (await fetch('test/fixture.json')).json();
    backend = fakeBackend(fixture);
  }
  try {
    const broken = await backend.recoveryInfo();
    if (broken) { showRecovery(broken); return; }
    const list = await backend.listInspections();
    const last = localStorage.getItem('hallmark.last');
    const resume = list.find((s) => s.id === last) || list[0];
    if (resume) await openInspection(resume.id); else await showList();
    requestAnimationFrame(() => backend.appInfo(true).catch(() => {}));
  } catch (e) {
    toast(errorText(e));
    await showList().catch(() => {});
  }
}

start();
