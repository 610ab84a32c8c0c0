// The lead: import bundles, the roster, the merged panel per site, the signed report.
import { $, h, toast, setStatus, errorText, localTime, twoDecimals, ask } from '../dom.js';
import { renderRectifications } from './rectify.js';

/// One import outcome as a Chinese line, from its structured result or error (never its English line).
function outcomeLine(r) {
  const who = (x) => (x.known_as ? `名册：${x.known_as}` : `⚠ 不在名册中（签名 ${x.fingerprint}）`);
  if (r.error) return `${r.file}：${errorText({ ...r.error, fields: { ...(r.error.fields || {}), file: undefined } })}`;
  const x = r.result || {};
  if (x.outcome === 'already_imported') return `${r.file}：已导入过（${x.assessor}），无需重复导入`;
  if (x.outcome === 'applied') return `${r.file}：已导入 ${x.site} · ${x.assessor}（${who(x)}）；新记录 ${x.new_events}/${x.events} 条，新照片 ${x.new_photos}/${x.photos} 张`;
  return r.file;
}

const show = (v) => (v === null || v === undefined ? '（无）' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export async function showLead(ctx) {
  $('#main').dataset.inspection = '';
  $('#title').textContent = '组长：导入与汇总';
  setStatus('');
  const b = ctx.backend;
  // 整改跟踪 is read on its own: its trouble stays in its section, never blocks import or reports.
  const [inbox, groups, due, info, rectify] = await Promise.all([b.bundleInbox(), b.mergeView(), b.reevaluationsDue(), b.appInfo(),
    renderRectifications(ctx).catch((e) => h('section', { class: 'rectifications', id: 'rectifications' }, h('h2', {}, '整改跟踪'),
      h('p', { class: 'refused' }, `整改项目无法读取：${errorText(e)}`)))]);
  const results = h('ul', { class: 'import-results', id: 'import-results' });
  const bar = h('progress', { id: 'import-progress', max: 1, value: 0, hidden: true });
  const boxes = inbox.files.map((f) => h('label', { class: 'inbox-file' }, h('input', { type: 'checkbox', checked: true, value: f.path }), ` ${f.name}`, h('small', {}, ` ${(f.size / 1048576).toFixed(1)} MB`)));
  const importSelected = async () => {
    const paths = boxes.map((x) => $('input', x)).filter((i) => i.checked).map((i) => i.value);
    if (!paths.length) { toast('请选择要导入的数据包'); return; }
    bar.hidden = false;
    try {
      const out = await b.importBundles(paths, ({ done, total }) => { bar.max = total || 1; bar.value = done; });
      await showLead(ctx);
      const list = $('#import-results');
      for (const r of out) {
        const unknown = r.result && !r.result.known_as;
        list.append(h('li', { class: r.error ? 'refused' : (unknown ? 'flagged' : 'ok') }, outcomeLine(r)));
      }
    } catch (e) { toast(errorText(e)); }
  };
  const roster = h('form', { class: 'roster', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(roster).entries());
    if (!f.key.trim() || !f.name.trim()) { toast('请填写公钥和姓名'); return; }
    try { const fp = await b.rosterAdd(f.key.trim(), f.name.trim()); await showLead(ctx); toast(`已加入名册：${f.name} ${fp}`, 'ok'); } catch (e) { toast(errorText(e)); }
  } },
  h('input', { name: 'key', placeholder: '评价人员平板的签名公钥（64位十六进制）', size: 70 }),
  h('input', { name: 'name', placeholder: '姓名' }),
  h('button', { class: 'ghost', type: 'submit' }, '加入名册'));

  $('#main').replaceChildren(h('section', { class: 'lead' },
    due.length ? h('div', { class: 'due', id: 'due' }, h('h2', {}, '复评到期提醒'),
      ...due.map((d) => h('p', {}, `${d.site}：评价结论有效期至 ${d.valid_until}（${d.days_left >= 0 ? `还剩 ${d.days_left} 天` : `已过期 ${-d.days_left} 天`}），请安排复评`))) : null,
    h('h2', {}, '导入数据包'),
    h('div', { class: 'actions' }, h('button', { class: 'ghost', id: 'pull-server', onclick: async () => {
      setStatus('正在从服务器获取…');
      try {
        const out = await b.pullFromServer();
        setStatus('');
        await showLead(ctx);
        const list = $('#import-results');
        if (!out.lines.length) list.append(h('li', {}, '服务器上还没有本机负责的评价组数据'));
        for (const line of out.lines) list.append(h('li', { class: 'ok' }, line));
        toast(`从服务器获取：新导入 ${out.imported} 份${out.failed ? `，${out.failed} 份未能获取` : ''}`, out.failed ? undefined : 'ok');
      } catch (e) { setStatus(''); toast(errorText(e)); }
    } }, '从服务器获取')),
    h('p', { class: 'card-sub' }, `数据包目录：${inbox.dir}`),
    inbox.files.length ? h('div', { class: 'inbox', id: 'inbox' }, ...boxes) : h('p', { class: 'empty' }, '目录中没有数据包（.hallmark）。'),
    h('div', { class: 'actions' }, h('button', { class: 'primary', id: 'import', onclick: importSelected, disabled: !inbox.files.length }, '校验并导入所选'), bar),
    results,
    h('details', {}, h('summary', {}, '评价人员密钥名册'), rosterFile(ctx, inbox.dir), roster, h('p', { class: 'device' }, `本机公钥 ${info.public_key}`)),
    h('h2', {}, '汇总'),
    groups.length ? null : h('p', { class: 'empty' }, '还没有导入任何评价。'),
    ...groups.map((g) => renderGroup(ctx, g)),
    rectify));
}

/// The roster from a file ("公钥<TAB>姓名" per line, like the demo's roster.tsv).
function rosterFile(ctx, dir) {
  const path = h('input', { name: 'roster-path', value: `${dir}/roster.tsv`, 'aria-label': '名册文件' });
  return h('div', { class: 'roster-file' }, path,
    h('button', { type: 'button', class: 'ghost', id: 'roster-load', onclick: async () => {
      try {
        const added = await ctx.backend.rosterLoad(path.value.trim());
        await showLead(ctx);
        toast(`已从名册文件加入 ${added.length} 人：${added.map((a) => a.name).join('、')}`, 'ok');
      } catch (e) { toast(errorText(e)); }
    } }, '从名册文件加载'));
}

/// The panel: the lead picks its inspections (never matched by typed site names); each can be
/// taken out with a reason the report prints, and put back.
function panelControls(ctx, g) {
  const b = ctx.backend;
  const run = (f) => async () => { try { await f(); await showLead(ctx); } catch (e) { toast(errorText(e)); } };
  if (!g.panel_id) {
    return h('div', { class: 'panel-controls' },
      h('p', { class: 'panel-note' }, '尚未指定评价组：以下按受评单位名称临时归并。请确认后组成评价组。'),
      h('button', { type: 'button', class: 'primary panel-create', onclick: run(() => b.panelCreate(g.site, g.assessors.map((a) => a.inspection_id))) },
        `以这 ${g.assessors.length} 份评价组成评价组`));
  }
  return h('div', { class: 'panel-controls' },
    h('p', { class: 'panel-note' }, `评价组由组长指定（${g.assessors.length} 份评价计入）`),
    ...(g.excluded || []).map((x) => h('p', { class: 'excluded' }, `已移出：${x.name}（原因：${x.reason}；${localTime(x.recorded_at)}） `,
      h('button', { type: 'button', class: 'ghost panel-add', onclick: run(() => b.panelAdd(g.panel_id, x.inspection_id)) }, '重新计入'))));
}

function removeButton(ctx, g, a) {
  if (!g.panel_id) return null;
  return h('button', { type: 'button', class: 'ghost panel-remove', onclick: async () => {
    const reason = await ask({ title: `把 ${a.name} 的评价移出评价组`, message: '移出的原因将印入评价报告。', reason: '移出原因（如：未到现场、评分不完整）', ok: '移出', danger: true });
    if (!reason) return;
    try { await ctx.backend.panelRemove(g.panel_id, a.inspection_id, reason); await showLead(ctx); } catch (e) { toast(errorText(e)); }
  } }, '移出评价组');
}

function renderGroup(ctx, g) {
  const b = ctx.backend;
  const p = g.panel;
  const names = g.assessors.map((a) => a.name);
  // Review (issue #13): a score cell of an item returns it to its assessor with a comment.
  const returnItem = (k, sp) => async () => {
    const a = g.assessors[k];
    const comment = await ask({ title: `退回 ${a.name} 的「${sp.name}」`, message: '评价人员将在平板上看到退回意见，修改后重新导出数据包。退回未处理前不能签发正式报告。', reason: '退回意见（如：与其他评价人员相差较大，请复核）', ok: '退回' });
    if (!comment) return;
    try { await b.reviewSheet(a.inspection_id, sp.id, true, comment); await showLead(ctx); } catch (e) { toast(errorText(e)); }
  };
  const scoreRow = (sp, label, item) => h('tr', {},
    h('th', {}, label), h('td', {}, sp.max_points),
    ...sp.scores.map((s, k) => h('td', item
      ? { class: `${sp.outliers[k] ? 'outlier ' : ''}reviewable`, title: '点击退回此项给评价人员', dataset: { item: sp.id, sheet: g.assessors[k].inspection_id }, onclick: returnItem(k, sp) }
      : { class: sp.outliers[k] ? 'outlier' : '' }, s === null ? '—' : s)),
    h('td', { title: sp.mean ?? '' }, twoDecimals(sp.mean)), h('td', {}, sp.min ?? '—'), h('td', {}, sp.max ?? '—'), h('td', { title: sp.stddev ?? '' }, twoDecimals(sp.stddev)));
  const table = p ? h('div', { class: 'table-scroll' }, h('table', { class: 'merge' },
    h('thead', {}, h('tr', {}, h('th', {}, '评分项'), h('th', {}, '分值'), ...names.map((n) => h('th', {}, n)), h('th', {}, '均值'), h('th', {}, '最低'), h('th', {}, '最高'), h('th', {}, '标准差'))),
    h('tbody', {}, ...p.items.map((sp) => scoreRow(sp, sp.name, true)), scoreRow(p.total, '总分', false))))
    : h('div', {}, h('p', { class: 'refused' }, '不能汇总这些评价（评分细则版本不一致或数据不完整）。'), h('details', {}, h('summary', {}, '技术信息'), h('pre', {}, g.error || '')));
  const sources = h('ul', { class: 'sources' }, ...g.assessors.map((a) => h('li', {},
    `${a.name}：总分 ${a.total}${a.complete ? '' : '（不完整）'} · 签名指纹 ${a.fingerprint} `,
    a.local ? h('span', { class: 'badge' }, '本机') : (a.known_as ? h('span', { class: 'badge done' }, `名册：${a.known_as}`) : h('span', { class: 'badge veto' }, '⚠ 不在名册中')),
    ` · 数据包 ${a.bundles} 个 · 照片 ${Object.values(a.photos).reduce((n, ps) => n + ps.length, 0)} 张`,
    ' ', removeButton(ctx, g, a),
    ...(a.date_warnings || []).map((w) => h('div', { class: 'conflict date-warning' }, `⚠ 日期：${w}`)),
    ...a.conflicts.map((c) => h('div', { class: 'conflict' }, `⚠ 冲突 ${c.key}：`, c.sides.map((s) => `${s.bundle_file} 记为 ${show(s.value)}（${localTime(s.recorded_at)}）`).join('；'), `；现值 ${show(c.current)}`)))));
  // The lead's reviews of this panel: each with 接受 while returned or answered.
  const reviews = h('div', { class: 'panel-reviews' });
  b.panelReviews(g.assessors.map((a) => a.inspection_id)).then((list) => {
    if (!list.length) return;
    const label = { returned: '已退回，待评价人员修改', answered: '评价人员已修改，待接受', accepted: '已接受' };
    reviews.append(h('h3', {}, '复核'), h('ul', {}, ...list.map((r) => h('li', { class: `review ${r.state}` },
      `${r.assessor} · ${r.item_id ? (p && p.items.find((i) => i.id === r.item_id) || {}).name || r.item_id : '整张评分表'}：${label[r.state]}${r.comment ? `（${r.comment}）` : ''} `,
      r.state === 'accepted' ? null : h('button', { type: 'button', class: 'ghost review-accept', onclick: async () => {
        try { await b.reviewSheet(r.inspection_id, r.item_id, false, r.state === 'answered' ? '已修改' : ''); await showLead(ctx); } catch (e) { toast(errorText(e)); }
      } }, '接受')))));
    for (const r of list.filter((x) => x.state !== 'accepted' && x.item_id)) {
      const td = table.querySelector(`td[data-item="${r.item_id}"][data-sheet="${r.inspection_id}"]`);
      if (td) td.classList.add(r.state);
    }
  }).catch((e) => console.warn(e));
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
        const label = ph.caption || (ph.taken_at ? localTime(ph.taken_at) : localTime(ph.attached_at));
        const img = h('img', { alt: `${name} ${label}`, onclick: async () => { $('img', $('#viewer')).src = await b.photoView(ph.sha256); $('#viewer').hidden = false; } });
        row.append(h('figure', {}, img, h('figcaption', {}, `${name} · ${label}`)));
        b.thumbView(ph.sha256).then((u) => { img.src = u; }).catch(() => {});
      }
      photos.append(row);
    }
  });
  const leader = h('select', { name: 'leader' }, ...names.map((n) => h('option', { value: n }, n)));
  const form = h('form', { class: 'report-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form).entries());
    setStatus('正在生成评价报告…');
    const details = { site_head: f.site_head, site_phone: f.site_phone, site_email: f.site_email, leader: f.leader };
    try {
      let r;
      try {
        r = await b.makeReport(g.site, g.rubric_id, details);
      } catch (e) {
        if (e && e.code === 'reviews_open') {
          // Issue #13: returned items not answered yet; sign only with a reason the report prints.
          setStatus('');
          const reason = await ask({
            title: '有退回待修改的项目',
            message: `${(e.fields && e.fields.open || []).join('；')}。可等待评价人员修改后的数据包，或在下方填写原因后仍然签发（原因将印入评价报告）。`,
            reason: '仍要签发的原因（如：评价人员已调离，无法复核）',
            ok: '仍然签发',
            danger: true,
          });
          if (!reason) return;
          r = await b.makeReport(g.site, g.rubric_id, details, false, reason);
        } else {
          if (!e || e.code !== 'panel_incomplete') throw e;
          setStatus('');
          const draft = await ask({
            title: '评价组不能形成结论',
            message: '评价人员不足5人，或有评分不完整，不能生成正式报告。可以生成草稿报告：每页印“草稿”，不签名，不作为正式结论。',
            ok: '生成草稿报告',
          });
          if (!draft) return;
          r = await b.makeReport(g.site, g.rubric_id, details, true);
        }
      }
      setStatus(r.draft ? '草稿报告已生成（未签名）' : '报告已生成并签名', 'ok');
      form.append(h('p', { class: 'ok report-made' }, `报告编号 ${r.number}：${r.pdf}（${r.sidecar ? `签名：${r.sidecar}` : '草稿，未签名'}）；${r.final_score ? `最终得分 ${twoDecimals(r.final_score)}` : '无最终得分'}，${r.conclusion}${r.valid_until ? `，有效期至 ${r.valid_until}` : ''}`));
      // A signed report opens its 整改 items: the list below shows them.
      if (!r.draft) { const old = $('#rectifications'); if (old) old.replaceWith(await renderRectifications(ctx)); }
    } catch (e) { toast(errorText(e)); setStatus(''); }
  } },
  h('input', { name: 'site_head', placeholder: '受评单位负责人' }),
  h('input', { name: 'site_phone', placeholder: '电话' }),
  h('input', { name: 'site_email', placeholder: '电子邮箱' }),
  h('label', {}, '组长 ', leader),
  h('button', { class: 'primary', type: 'submit' }, '生成评价报告（PDF，已签名）'),
  ...[['xlsx', '电子表格'], ['csv', '逗号分隔文本']].map(([fmt, name]) => h('button', { class: 'ghost', type: 'button', dataset: { format: fmt }, onclick: async () => {
    try { toast(`已导出评分明细：${await b.exportScores(g.site, g.rubric_id, fmt)}`, 'ok'); } catch (e) { toast(errorText(e)); }
  } }, `导出评分明细（${name}）`)));
  b.reportDetails(g.site).then((d) => {
    if (!d) return;
    for (const k of ['site_head', 'site_phone', 'site_email']) if (d[k] && !form.elements[k].value) form.elements[k].value = d[k];
    if (d.leader && names.includes(d.leader)) leader.value = d.leader;
  }).catch(() => {});
  return h('article', { class: 'group', dataset: { rubric: g.rubric_id, panel: g.panel_id || '' } },
    h('h3', {}, `${g.site} · ${g.rubric_title || g.rubric_id}`),
    panelControls(ctx, g),
    // No final score below the rubric's panel size (issue #13): the mean, labelled provisional.
    p ? h('p', { class: `conclusion ${p.conclusion.outcome}` }, p.final_score
      ? `最终得分 ${twoDecimals(p.final_score)}（${g.assessors.length} 名评价人员平均）：${p.conclusion.text}`
      : `无最终得分（暂定平均分 ${twoDecimals(p.total.mean)}，仅供参考）：${p.conclusion.text}`) : null,
    ...(p ? p.warnings.map((w) => h('p', { class: 'card-sub' }, `提示：${w}`)) : []),
    table,
    p && [...p.items, p.total].some((sp) => sp.outliers.includes(true)) ? h('p', { class: 'card-sub' }, '标红：与其他评价人员均值相差超过该项分值的四分之一，请核对。') : null,
    p ? h('p', { class: 'card-sub' }, '点击某位评价人员某一项的得分，可把该项退回给他复核。') : null,
    reviews, sources, photos, form);
}
