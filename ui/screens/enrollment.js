// 设备登记 (issue #10): this tablet's key for the bureau (a QR code and the text), the
// enrollment request written into the bundle folder, and the certificate the bureau issued,
// imported from that folder with the bureau's root. An unenrolled tablet records, exports and
// signs as before: nothing here blocks recording.
import { $, h, toast, setStatus, errorText, localDay, localTime, ERROR_TITLES } from '../dom.js';

export const ROLE_LABELS = { assessor: '评估人员', lead: '评价组长', server: '服务器' };

/// Whether the certificate's end has passed (its `not_after` is UTC RFC 3339).
export function isExpired(e, now = new Date()) {
  return Boolean(e) && new Date(e.not_after).getTime() <= now.getTime();
}

/// The list's chip: 已登记：张伟（至 2027年11月25日）, 证书已过期：…, or 未登记.
export function enrollmentChip(e) {
  if (e === undefined) return null; // the backend did not answer: say nothing rather than guess
  if (!e) return h('span', { class: 'badge enroll none', id: 'enrollment-chip' }, '未登记');
  const expired = isExpired(e);
  const kind = expired ? 'veto' : e.expiring_soon ? 'draft' : 'done';
  return h('span', { class: `badge enroll ${kind}`, id: 'enrollment-chip' },
    `${expired ? '证书已过期' : '已登记'}：${e.name}（至 ${localDay(e.not_after)}）`);
}

/// Why a certificate was not imported, in Chinese from the error's code and fields.
function refusal(e) {
  if (!e || typeof e !== 'object' || !e.code) return errorText(e);
  if (e.message) console.warn(`[${e.code}] ${e.message}`);
  const f = e.fields || {};
  const file = f.file ? `（文件 ${f.file}）` : '';
  switch (e.code) {
    case 'io': return `无法读取文件${file}，请确认文件还在数据包文件夹中`;
    case 'invalid': return `证书校验未通过${file}，未导入`;
    case 'expired': return `证书已过期${f.not_after ? `（有效期至 ${localDay(f.not_after)}）` : ''}，未导入。请医保局重新签发`;
    case 'revoked': return `${ERROR_TITLES.revoked}${f.revoked_at ? `（${localDay(f.revoked_at)}）` : ''}，未导入`;
    case 'unknown_issuer': return `${ERROR_TITLES.unknown_issuer}${f.issuer ? `（签发机构：${f.issuer}）` : ''}，未导入。请确认选择了本医保局的根证书`;
    case 'key_mismatch': return `${ERROR_TITLES.key_mismatch}${f.name ? `（证书上的姓名：${f.name}）` : ''}，未导入。请选择为本机签发的证书`;
    case 'wrong_role': return `${ERROR_TITLES.wrong_role}${f.name ? `（${f.name}）` : ''}，未导入。请医保局按评估人员或评价组长签发`;
    case 'malformed': return `${ERROR_TITLES.malformed}${file}，未导入`;
    default: return ERROR_TITLES[e.code] ? `${ERROR_TITLES[e.code]}${file}，未导入` : errorText(e);
  }
}

/// The key in groups of 8 for reading aloud and comparing (the QR code carries it whole).
function grouped(key, n = 8) {
  return (key.match(new RegExp(`.{1,${n}}`, 'g')) || []).join(' ');
}

function field(label, control) {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

/// Who the device is enrolled as, with the expiry warning.
function enrolledCard(e) {
  if (!e) {
    return h('div', { class: 'enroll-card none', id: 'enrollment-status' },
      h('div', { class: 'enroll-state' }, h('span', { class: 'badge enroll none' }, '未登记')),
      h('p', {}, '本机尚未登记。未登记不影响使用：可以照常记录、导出数据包，组长导入时显示为“未登记”。'),
      h('p', { class: 'card-sub' }, '登记后，本机导出的数据包带有医保局签发的证书，组长可以确认是谁记录的。'));
  }
  const expired = isExpired(e);
  const warning = expired
    ? h('div', { class: 'enroll-warning expired', id: 'enrollment-warning', role: 'alert' }, `证书已过期（${localDay(e.not_after)}）。仍可照常记录，但此后导出的数据包组长核验不能通过：请向医保局申请新证书，登记后再导出。`)
    : e.expiring_soon
      ? h('div', { class: 'enroll-warning', id: 'enrollment-warning', role: 'alert' }, `证书将于 ${Math.max(e.days_left, 0)} 天后到期（${localDay(e.not_after)}），请及时向医保局申请新证书。`)
      : null;
  const row = (k, v) => h('div', { class: 'enroll-row' }, h('span', { class: 'enroll-key' }, k), h('span', { class: 'enroll-value' }, v || '—'));
  return h('div', { class: `enroll-card ${expired ? 'expired' : 'ok'}`, id: 'enrollment-status' },
    h('div', { class: 'enroll-state' }, h('span', { class: `badge enroll ${expired ? 'veto' : 'done'}` }, expired ? '证书已过期' : '已登记'),
      h('strong', { id: 'enrolled-name' }, ` ${e.name}`)),
    warning,
    row('单位', e.unit),
    row('职务', e.title),
    row('角色', e.roles.map((r) => ROLE_LABELS[r] || r).join('、')),
    row('签发机构', e.issuer === e.root ? e.issuer : `${e.issuer}（根证书：${e.root}）`),
    h('div', { class: 'enroll-row' }, h('span', { class: 'enroll-key' }, '有效期至'),
      h('span', { class: 'enroll-value', id: 'enrolled-until' }, `${localDay(e.not_after)}${expired ? '（已过期）' : `（还剩 ${e.days_left} 天）`}`)),
    row('证书序列号', grouped(e.serial)));
}

/// The two file choices (certificate, root), from the `.pem` files of the bundle folder.
function fileSelect(id, files, preferred) {
  const pick = files.find(preferred) || files[0];
  return h('select', { id, name: id },
    ...files.map((f) => h('option', { value: f.path, selected: pick && f.path === pick.path }, f.name)));
}

const looksLikeRoot = (f) => /root|根/i.test(f.name);

export async function showEnrollment(ctx, note = null) {
  $('#main').dataset.inspection = '';
  $('#title').textContent = '设备登记';
  setStatus('');
  const s = await ctx.backend.enrollmentScreen();
  const e = s.enrollment;

  const written = h('div', { class: 'request-written', id: 'request-written', hidden: !note });
  if (note) written.append(...note);
  const form = h('form', { class: 'enroll-form', id: 'request-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form).entries());
    if (!f.name.trim()) { toast('请填写姓名'); form.elements.name.focus(); return; }
    try {
      const r = await ctx.backend.enrollmentRequest(f.name.trim(), f.unit.trim(), f.title.trim());
      written.replaceChildren(
        h('p', { class: 'ok' }, '已写入登记申请文件：', h('strong', { id: 'request-file' }, r.name)),
        h('p', {}, `文件在数据包文件夹（${r.dir}）中。请把这个文件交给医保局签发证书。`),
        h('p', { class: 'card-sub' }, '医保局签发后，把证书文件和医保局根证书复制到同一文件夹，再在下方“导入证书”。'));
      written.hidden = false;
      toast(`已写入登记申请：${r.name}`, 'ok');
    } catch (err) { toast(errorText(err)); }
  } },
  field('姓名', h('input', { name: 'name', value: e ? e.name : '', autocomplete: 'off' })),
  field('单位', h('input', { name: 'unit', value: e ? e.unit : '', autocomplete: 'off' })),
  field('职务', h('input', { name: 'title', value: e ? e.title : '', autocomplete: 'off' })),
  h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit', id: 'write-request' }, '写入登记申请')));

  const files = s.certificate_files;
  const certificate = fileSelect('certificate-file', files, (f) => !looksLikeRoot(f));
  const root = fileSelect('root-file', files, looksLikeRoot);
  const refused = h('p', { class: 'refused', id: 'install-error', hidden: true });
  const install = async () => {
    if (!certificate.value || !root.value) { toast('请选择证书文件和医保局根证书'); return; }
    refused.hidden = true;
    setStatus('正在校验证书…');
    try {
      const done = await ctx.backend.installCertificate(certificate.value, root.value);
      setStatus('');
      toast(`已登记：${done.name}（至 ${localDay(done.not_after)}）`, 'ok');
      await showEnrollment(ctx);
    } catch (err) {
      setStatus('');
      const text = refusal(err);
      refused.textContent = text;
      refused.hidden = false;
      toast(text);
    }
  };

  // 通过服务器登记 (issue #11): the server address and the bureau root's fingerprint from the
  // bureau's notice; the name, unit and title from the request form above.
  const status = await ctx.backend.syncStatus().catch(() => null);
  const serverUrl = h('input', { id: 'server-url', name: 'server', value: (status && status.server) || '', placeholder: 'https://服务器地址:8443', autocomplete: 'off', inputmode: 'url' });
  const pin = h('input', { id: 'root-fingerprint', name: 'fingerprint', placeholder: '医保局登记通知上的根证书指纹（至少 32 位）', autocomplete: 'off' });
  const answer = h('div', { class: 'server-enrollment', id: 'server-enrollment', role: 'status', hidden: true });
  const say = (r) => {
    answer.hidden = false;
    answer.dataset.state = r.state;
    if (r.state === 'pending') {
      answer.replaceChildren(h('p', { class: 'ok' }, `已向服务器提交登记申请（${localTime(r.received_at)}），等待医保局批准。`),
        h('p', {}, '请告知医保局本机公钥指纹：', h('strong', { id: 'pending-fingerprint' }, r.fingerprint)),
        h('p', { class: 'card-sub' }, '批准后联网时本机会自动安装证书；也可以点“检查审批结果”。'));
    } else if (r.state === 'refused') {
      answer.replaceChildren(h('p', { class: 'refused' }, `医保局未批准本机的登记申请：${r.reason || '未说明原因'}。可修改信息后重新申请。`));
    } else {
      answer.replaceChildren(h('p', { class: 'ok' }, '医保局已批准，证书已安装。'));
    }
  };
  const submitOnline = async () => {
    const f = Object.fromEntries(new FormData(form).entries());
    if (!f.name.trim()) { toast('请在上方填写姓名'); form.elements.name.focus(); return; }
    if (!serverUrl.value.trim()) { toast('请填写服务器地址'); serverUrl.focus(); return; }
    if (!pin.value.trim()) { toast('请填写根证书指纹'); pin.focus(); return; }
    setStatus('正在连接服务器…');
    try {
      const r = await ctx.backend.enrollmentSubmit(serverUrl.value.trim(), pin.value.trim(), f.name.trim(), f.unit.trim(), f.title.trim());
      setStatus('');
      say(r);
      toast('登记申请已提交，等待医保局批准', 'ok');
    } catch (err) { setStatus(''); toast(errorText(err)); }
  };
  const checkOnline = async () => {
    setStatus('正在查询审批结果…');
    try {
      const r = await ctx.backend.enrollmentCheck();
      setStatus('');
      if (r.installed) {
        toast(`已登记：${r.installed.name}（至 ${localDay(r.installed.not_after)}）`, 'ok');
        await showEnrollment(ctx);
        return;
      }
      say(r);
    } catch (err) { setStatus(''); toast(errorText(err)); }
  };
  const online = h('div', { class: 'enroll-online', id: 'enroll-online' },
    h('h2', {}, '通过服务器登记（联网时）'),
    h('p', { class: 'card-sub' }, '填写上方姓名、单位、职务，再填写服务器地址和医保局通知上的根证书指纹。指纹核对无误才会信任该服务器。'),
    h('div', { class: 'enroll-form' }, field('服务器地址', serverUrl), field('根证书指纹', pin)),
    answer,
    h('div', { class: 'actions' },
      h('button', { class: 'ghost', type: 'button', id: 'check-enrollment', onclick: checkOnline }, '检查审批结果'),
      h('button', { class: 'primary', type: 'button', id: 'submit-enrollment', onclick: submitOnline }, '向服务器申请登记')));

  $('#main').replaceChildren(h('section', { class: 'enrollment', id: 'enrollment' },
    h('div', { class: 'list-head' }, h('h1', {}, '设备登记'),
      h('button', { class: 'ghost', id: 'enrollment-back', onclick: () => ctx.go.list() }, '返回评价列表')),
    enrolledCard(e),
    h('h2', {}, '本机公钥'),
    h('div', { class: 'device-key' },
      h('img', { id: 'device-qr', class: 'qr', alt: '本机公钥二维码', width: 264, height: 264,
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.qr_svg)}` }),
      h('div', { class: 'key-text' },
        h('p', { class: 'card-sub' }, '医保局或组长扫描二维码、或核对下面的指纹，确认这台平板的公钥。'),
        h('div', { class: 'enroll-key' }, '公钥指纹'),
        h('div', { class: 'fingerprint', id: 'device-fingerprint' }, s.fingerprint),
        h('div', { class: 'enroll-key' }, '完整公钥'),
        h('code', { class: 'public-key', id: 'device-key', dataset: { key: s.public_key } }, grouped(s.public_key)),
        h('div', { class: 'enroll-key' }, '设备编号'),
        h('code', { class: 'device-id', id: 'device-id' }, s.device_id))),
    h('h2', {}, e ? '重新申请（证书到期或信息变更时）' : '第一步：填写登记信息'),
    h('p', { class: 'card-sub' }, `申请文件写入数据包文件夹（${s.bundle_dir}），由本机密钥签名。`),
    form, written,
    online,
    h('h2', {}, e ? '导入新证书（不联网时）' : '第二步：导入证书（不联网时）'),
    files.length === 0
      ? h('p', { class: 'empty', id: 'no-certificates' }, `数据包文件夹（${s.bundle_dir}）中没有证书文件（.pem）。请把医保局签发的证书和根证书复制到该文件夹，再点“刷新”。`)
      : h('div', { class: 'enroll-form' },
        field('证书文件', certificate),
        field('医保局根证书', root)),
    refused,
    h('div', { class: 'actions' },
      h('button', { class: 'ghost', type: 'button', id: 'refresh-certificates', onclick: () => showEnrollment(ctx, written.hidden ? null : [...written.childNodes]) }, '刷新'),
      h('button', { class: 'primary', type: 'button', id: 'install-certificate', disabled: files.length === 0, onclick: install }, '导入证书'))));
}
