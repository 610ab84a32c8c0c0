// A fake backend for running the UI in a plain browser (no Tauri): it keeps answers in memory
// and serves a fixed inspection view. It does not score: points shown are the fixture's.
export function fakeBackend(fixture) {
  const state = { answers: { ...(fixture.answers || {}) } };
  const view = () => ({ services: [], ...fixture, answers: { ...state.answers } });
  return {
    appInfo: async () => ({ version: 'fake', device_id: 'fake-device', fingerprint: '0000 0000 0000 0000', data_dir: '(memory)' }),
    listRubrics: async () => [{ id: fixture.rubric.id, title: fixture.rubric.title, version: fixture.rubric.version }],
    listInspections: async () => [{
      id: fixture.inspection.id, rubric_id: fixture.rubric.id, rubric_title: fixture.rubric.title,
      site_name: fixture.inspection.site_name, visited_on: fixture.inspection.visited_on,
      assessor_name: fixture.inspection.assessor_name, finished: false, total: fixture.sheet.total,
      complete: false, answered_items: 0, total_items: fixture.rubric.item.length, last_change: '',
    }],
    createInspection: async () => fixture.inspection.id,
    openInspection: async () => view(),
    recordAnswer: async (_id, key, value) => { state.answers[key] = value; return view(); },
    clearAnswer: async (_id, key) => { delete state.answers[key]; return view(); },
    recordAmendment: async (_id, key, value) => { state.answers[key] = value; return view(); },
    attachPhoto: async () => view(),
    recordService: async () => view(),
    photoView: async () => '',
    finishInspection: async () => view(),
    saveSignature: async () => view(),
    exportBundle: async () => ({ path: '(memory)/demo.hallmark', bytes: 0, photos: 0, events: 0, fingerprint: '0000 0000 0000 0000' }),
    bundleInbox: async () => ({ dir: '(memory)', files: [] }),
    importBundles: async () => [],
    rosterAdd: async () => '0000 0000 0000 0000',
    rosterLoad: async () => [],
    panelCreate: async (site) => ({ id: 'fake-panel', site, author: '本机', created_at: '', members: [] }),
    panelAdd: async (panelId) => ({ id: panelId, site: '', author: '本机', created_at: '', members: [] }),
    panelRemove: async (panelId) => ({ id: panelId, site: '', author: '本机', created_at: '', members: [] }),
    panelList: async () => [],
    reportDetails: async () => null,
    editCaption: async () => view(),
    withdrawPhoto: async () => view(),
    mergeView: async () => [],
    thumbView: async () => '',
    makeReport: async () => ({ pdf: '(memory)/report.pdf', number: 'HM-XX', final_score: null, conclusion: '', valid_until: null }),
    exportScores: async () => '(memory)/scores.xlsx',
    reevaluationsDue: async () => [],
    recoveryInfo: async () => null,
    restoreBackup: async () => ({ inspections: 0, moved_aside: null }),
    rebuildStore: async () => ({ inspections: 0, moved_aside: null }),
    backupStore: async () => '(memory)/backup.hallmark-backup',
  };
}
