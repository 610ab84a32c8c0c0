// The small DOM module: element builder, status line, toast, undo bar, in-app dialogs, error
// text and local-time formatting. No screen state lives here.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/// Replaces `el`'s text only when it differs, so nothing repaints (or moves) without need.
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function toast(message, kind = 'error') {
  const t = $('#toast');
  t.replaceChildren(typeof message === 'string' ? document.createTextNode(message) : message);
  t.className = kind;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

export function setStatus(text, kind = '') {
  const s = $('#status');
  s.textContent = text;
  s.className = kind;
}

/// "已清除 · 撤销" for `ms`: a tap on 撤销 runs `undo` (which records the old value again).
export function offerUndo(message, undo, ms = 6000) {
  const bar = $('#undo');
  const button = h('button', { class: 'primary', id: 'undo-button', onclick: () => { bar.hidden = true; undo(); } }, '撤销');
  bar.replaceChildren(h('span', {}, `${message} · `), button);
  bar.hidden = false;
  clearTimeout(offerUndo.timer);
  offerUndo.timer = setTimeout(() => { bar.hidden = true; }, ms);
}

/// An in-app dialog (never window.prompt/confirm). With `reason`, asks for a text and resolves
/// to it (or null when cancelled); otherwise resolves to true/false.
export function ask({ title, message = '', reason = null, value = '', ok = '确定', cancel = '取消', danger = false }) {
  return new Promise((resolve) => {
    const box = $('#dialog');
    const text = reason ? h('textarea', { id: 'dialog-reason', rows: 3, placeholder: reason, value }) : null;
    const hint = h('p', { class: 'dialog-hint' });
    const done = (v) => { box.hidden = true; box.replaceChildren(); resolve(v); };
    const okButton = h('button', { class: danger ? 'primary danger' : 'primary', id: 'dialog-ok', onclick: () => {
      if (!reason) return done(true);
      const r = text.value.trim();
      if (!r) { hint.textContent = '请填写原因'; text.focus(); return; }
      done(r);
    } }, ok);
    box.replaceChildren(h('div', { class: 'dialog-box', role: 'dialog', 'aria-modal': 'true' },
      h('h2', {}, title), message ? h('p', {}, message) : null, text, hint,
      h('div', { class: 'actions' },
        h('button', { class: 'ghost', id: 'dialog-cancel', onclick: () => done(reason ? null : false) }, cancel), okButton)));
    box.hidden = false;
    (text || okButton).focus();
  });
}

// The UI branches on the error's code, never on its text.
export const ERROR_TITLES = {
  invalid: '输入有误，未保存', rubric: '评分细则无法加载', finished: '该评价已完成，不能直接修改（请用“更正”）',
  io: '存储失败', database: '数据库错误', not_found: '找不到该评价',
  bundle: '数据包被拒绝（数据库未改变）', font: '缺少中文字体', layout: '报告排版失败',
  clock: '平板日期时间有误，未保存（请在系统设置中校准日期和时间）', damaged: '本机数据库已损坏，已停止写入和签名',
  missing: '找不到本机数据库', key_changed: '设备密钥已被更换，已停止签名', imported: '这是导入的评价，只读',
  panel: '评价组不能形成结论', photo: '照片无法保存',
  panel_incomplete: '评价组不能形成结论（评价人员不足5人，或有评分不完整）',
  reviews_open: '有退回待修改的项目，评价报告暂不能签发',
  // A certificate refused (issue #10): hallmark-trust's codes, through the store.
  malformed: '文件不是有效的证书（可能已损坏、不完整，或选错了文件）', expired: '证书已过期',
  not_yet_valid: '证书尚未生效（请检查本机和签发电脑的日期时间）', revoked: '证书已被医保局吊销',
  self_signed: '这是自签名证书，不是医保局签发的', unknown_issuer: '证书不是由所选的医保局根证书签发的',
  wrong_role: '证书角色不符', key_mismatch: '这张证书是为另一台设备签发的（证书中的公钥与本机不符）',
  unenrolled: '本机尚未登记', no_trust_root: '没有医保局根证书', authority: '登记申请无法生成',
  sync: '同步未完成（本机数据未改变）',
};

// Why a sync step failed (issue #11: fields.reason, the server's or the client's code).
const SYNC_REASONS = {
  unreachable: '无法连接服务器，联网后将自动重试', clock_skew: '本机时间与服务器相差过大，请校准日期和时间',
  unknown_device: '服务器尚不认识本机', unenrolled: '本机尚未登记，不能同步', revoked: '本机证书已被医保局吊销',
  expired: '本机证书已过期，请重新登记', unknown_issuer: '服务器不认可本机证书的签发机构', not_yours: '只能上传本机签名的数据包',
  not_lead: '本机不是评价组长，不能获取评价组数据', bad_answer: '服务器的回执未通过核验', local: '本机无法连接服务器（请检查服务器地址和根证书）',
  too_slow: '网络太慢，连接被服务器断开，稍后自动重试', replay: '请求被服务器判定为重放', bad_signature: '请求签名未通过服务器核验',
  root_fingerprint: '根证书指纹不符或格式不对：请核对医保局登记通知上的指纹（至少 32 位）和服务器地址',
  no_request: '服务器上没有本机的登记申请，请先申请', key_mismatch: '证书与本机密钥不符',
  decided: '该申请已处理过', bad_request: '登记申请未通过服务器核验（请填写姓名后重新申请）',
};

// Why a bundle was refused (fields.reason_code, a closed set from the store).
const BUNDLE_REASONS = {
  signature: '签名校验未通过（可能被改动，或由其他设备签名）', damaged: '文件已损坏或不是数据包',
  unknown_rubric: '所用评分细则本机不认识（请更新应用）', own_device: '这是本机记录的评价，无需导入',
  untrusted: '签名者的证书未通过核验（已过期、已吊销、非本医保局签发、不是评估人员证书，或姓名与证书不符）',
  contradicts: '与本机已有数据矛盾', too_big: '超出数据包大小上限', invalid: '内容不符合格式',
};

const ROLE_NAMES = { assessor: '评估人员', lead: '评价组长', server: '服务器' };
const roleText = (s) => String(s || '').split(/,| or /).map((r) => ROLE_NAMES[r.trim()] || '—').join('或');

const TEXT_FIELDS = { caption: '照片说明', note: '说明', reason: '原因', site_name: '受评单位', assessor_name: '评价人员', fewer_reason: '不足原因' };

/// A Chinese sentence from an error's structured fields (never from its English message).
export function fieldSentence(fields, labelOf = (k) => k) {
  if (!fields || typeof fields !== 'object') return '';
  const f = fields;
  if (f.kind === 'reading' || (f.min !== undefined && f.max !== undefined && f.value !== undefined)) {
    const name = f.label || (f.input ? labelOf(f.input) : '');
    const unit = f.unit ? ` ${f.unit}` : '';
    return `${name ? name + '：' : ''}${f.value}${unit} 超出有效范围（${f.min ?? '—'}–${f.max ?? '—'}${unit}）`;
  }
  // A certificate of the wrong role (issue #10): 张伟的证书角色为评估人员，需要评价组长.
  if (f.wanted) return `${f.name ? f.name + '的' : ''}证书角色为${roleText(f.has)}，需要${roleText(f.wanted)}`;
  if (f.kind === 'too_long') return `${TEXT_FIELDS[f.field] || '文字'}太长（${f.length} 字，最多 ${f.max} 字）`;
  if (f.kind === 'sync') return SYNC_REASONS[f.reason] || (f.transient ? '服务器暂时不可用，稍后自动重试' : `服务器拒绝（${f.reason}）`);
  if (f.reason_code) return `${f.file ? f.file + '：' : ''}${BUNDLE_REASONS[f.reason_code] || BUNDLE_REASONS.invalid}`;
  if (f.file) return `文件 ${f.file}`;
  if (f.value) return `平板时间 ${f.value}`;
  return '';
}

/// The error as Chinese: its title by code, then the sentence from its fields. The backend's
/// English message is never shown inline (it stays in the console for the technician).
export function errorText(e, labelOf) {
  if (e && typeof e === 'object' && e.code) {
    if (e.message) console.warn(`[${e.code}] ${e.message}`);
    const s = fieldSentence(e.fields, labelOf);
    return s ? `${ERROR_TITLES[e.code] || '出错了'}：${s}` : (ERROR_TITLES[e.code] || '出错了');
  }
  console.warn(e);
  return '出错了，请重试';
}

const pad = (n) => String(n).padStart(2, '0');

/// Whether `s` is a real day written YYYY-MM-DD (2026-02-30 is not).
export const realDay = (s) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(s ?? ''));
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
};

/// A UTC RFC 3339 time shown in the tablet's own zone: 2026-11-25 18:51.
export function localTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/// Only the clock part of a local time: 18:51.
export function localClock(iso) {
  return localTime(iso).slice(11);
}

/// A calendar day (YYYY-MM-DD) as 2026年11月25日.
export function chineseDay(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day || '');
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : (day || '—');
}

/// A UTC RFC 3339 time as the tablet's local calendar day: 2026年11月25日.
export function localDay(iso) {
  const d = new Date(iso || '');
  if (Number.isNaN(d.getTime())) return chineseDay(iso);
  return chineseDay(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`);
}

/// Today in the tablet's zone as YYYY-MM-DD.
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/// A mean or other long decimal shown to 2 decimals (display only; the exact value is kept).
export function twoDecimals(x) {
  if (x === null || x === undefined || x === '') return '—';
  const n = Number(x);
  if (!Number.isFinite(n)) return String(x);
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0$/, '').replace(/\.0$/, '');
}

/// The one unanswered count shown everywhere (header, finish dialog, list).
export function unansweredItems(sheet) {
  return sheet.items.filter((s) => s.status !== 'complete').length;
}

/// JSON with object keys sorted: the store may hand a value back with its keys in another
/// order, which is not a change.
export function canonical(v) {
  const sort = (x) => (Array.isArray(x) ? x.map(sort)
    : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort(x[k])])) : x);
  return JSON.stringify(sort(v ?? null));
}
