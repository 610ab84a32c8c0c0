// The only module that talks to Tauri. One function per command; everything else in the UI
// calls these, so the UI also runs in a plain browser with fake-backend.js.
const tauri = globalThis.__TAURI__;

function invoke(cmd, args, options) {
  return tauri.core.invoke(cmd, args, options);
}

export const available = Boolean(tauri && tauri.core);

export const backend = {
  syncStatus: () => invoke('sync_status'),
  syncSetServer: (server) => invoke('sync_set_server', { server }),
  syncNow: () => invoke('sync_now'),
  pullFromServer: () => invoke('pull_from_server'),
  serverAssignments: () => invoke('server_assignments'),
  appInfo: (firstScreen = false) => invoke('app_info', { firstScreen }),
  listRubrics: () => invoke('list_rubrics'),
  listInspections: () => invoke('list_inspections'),
  createInspection: (fields) => invoke('create_inspection', { new: fields }),
  openInspection: (id) => invoke('open_inspection', { id }),
  recordAnswer: (id, key, value) => invoke('record_answer', { id, key, value }),
  clearAnswer: (id, key) => invoke('clear_answer', { id, key }),
  recordAmendment: (id, key, value, reason) => invoke('record_amendment', { id, key, value, reason }),
  attachPhoto: (id, item, bytes, caption) =>
    invoke('attach_photo', bytes, {
      headers: {
        'x-inspection': encodeURIComponent(id),
        'x-item': encodeURIComponent(item),
        'x-caption': encodeURIComponent(caption || ''),
      },
    }),
  recordService: (id, item, entry) => invoke('record_service', { id, item, entry }),
  photoView: (sha256) => invoke('photo_view', { sha256 }),
  finishInspection: (id) => invoke('finish_inspection', { id }),
  saveSignature: (id, pngBytes) =>
    invoke('save_signature', pngBytes, { headers: { 'x-inspection': encodeURIComponent(id) } }),
  exportBundle: (id, onProgress) => invoke('export_bundle', { id, onProgress: channel(onProgress) }),
  bundleInbox: () => invoke('bundle_inbox'),
  receiveReviews: () => invoke('receive_reviews'),
  keepAnswers: (id, item, reason) => invoke('keep_answers', { id, item, reason }),
  rectifications: () => invoke('rectifications'),
  rectifyStep: (id, kind, { owner = null, dueOn = null, note = null } = {}) => invoke('rectify_step', { id, kind, owner, dueOn, note }),
  rectifyDone: (id, note, bytes) =>
    invoke('rectify_done', bytes, { headers: { 'x-rectification': encodeURIComponent(id), 'x-note': encodeURIComponent(note) } }),
  rectifyExport: () => invoke('rectify_export'),
  panelReviews: (inspectionIds) => invoke('panel_reviews', { inspectionIds }),
  reviewSheet: (inspectionId, itemId, returned, comment) => invoke('review_sheet', { inspectionId, itemId, returned, comment }),
  importBundles: (paths, onProgress) => invoke('import_bundles', { paths, onProgress: channel(onProgress) }),
  rosterAdd: (publicKey, name) => invoke('roster_add', { publicKey, name }),
  rosterLoad: (path) => invoke('roster_load', { path }),
  panelCreate: (site, members) => invoke('panel_create', { site, members }),
  panelAdd: (panelId, inspectionId) => invoke('panel_add', { panelId, inspectionId }),
  panelRemove: (panelId, inspectionId, reason) => invoke('panel_remove', { panelId, inspectionId, reason }),
  panelList: () => invoke('panel_list'),
  reportDetails: (site) => invoke('report_details', { site }),
  editCaption: (id, evidenceId, caption) => invoke('edit_caption', { id, evidenceId, caption }),
  withdrawPhoto: (id, evidenceId, reason) => invoke('withdraw_photo', { id, evidenceId, reason }),
  mergeView: () => invoke('merge_view'),
  thumbView: (sha256) => invoke('thumb_view', { sha256 }),
  makeReport: (site, rubricId, details, draft = false, overrideReviews = null) => invoke('make_report', { site, rubricId, details, draft, overrideReviews }),
  reportDetails: (site) => invoke('report_details', { site }),
  rosterLoad: (path) => invoke('roster_load', { path }),
  panelCreate: (site, members) => invoke('panel_create', { site, members }),
  panelAdd: (panelId, inspectionId) => invoke('panel_add', { panelId, inspectionId }),
  panelRemove: (panelId, inspectionId, reason) => invoke('panel_remove', { panelId, inspectionId, reason }),
  panelList: () => invoke('panel_list'),
  editCaption: (id, evidenceId, caption) => invoke('edit_caption', { id, evidenceId, caption }),
  withdrawPhoto: (id, evidenceId, reason) => invoke('withdraw_photo', { id, evidenceId, reason }),
  exportScores: (site, rubricId, format) => invoke('export_scores', { site, rubricId, format }),
  reevaluationsDue: () => invoke('reevaluations_due'),
  recoveryInfo: () => invoke('recovery_info'),
  restoreBackup: (path) => invoke('restore_backup', { path }),
  rebuildStore: () => invoke('rebuild_store'),
  backupStore: () => invoke('backup_store'),
  enrollmentStatus: () => invoke('enrollment_status'),
  enrollmentScreen: () => invoke('enrollment_screen'),
  enrollmentRequest: (name, unit, title) => invoke('enrollment_request', { name, unit, title }),
  enrollmentSubmit: (server, fingerprint, name, unit, title) => invoke('enrollment_submit', { server, fingerprint, name, unit, title }),
  enrollmentCheck: () => invoke('enrollment_check'),
  installCertificate: (certificate, root) => invoke('install_certificate', { certificate, root }),
};

// Progress messages ({ done, total }) arrive on a Tauri channel: no event permission needed.
function channel(onMessage) {
  const c = new tauri.core.Channel();
  c.onmessage = (m) => onMessage && onMessage(m);
  return c;
}
