// hallmark tablet UI: the entry point. Screens live in screens/, one input kind per file in
// inputs/, DOM helpers in dom.js; only backend.js talks to Tauri (fake-backend.js in a browser).
// State is passed, never shared: each screen gets `ctx` (the backend, what the device is, and
// how to go to another screen) and keeps its own state.
import { available, backend as tauriBackend } from './backend.js';
import { $, toast, errorText } from './dom.js';
import { showList, isLocal } from './screens/list.js';
import { showNew } from './screens/new.js';
import { showInspection, setupSignpad } from './screens/inspection.js';
import { showLead } from './screens/lead.js';
import { showRecovery } from './screens/recovery.js';
import { showEnrollment } from './screens/enrollment.js';

function context(backend) {
  const ctx = { backend, info: null };
  const guard = (f) => (...a) => f(...a).catch((e) => toast(errorText(e)));
  ctx.go = {
    list: guard(() => { localStorage.removeItem('hallmark.last'); return showList(ctx); }),
    new: guard(() => showNew(ctx)),
    inspection: guard((id) => showInspection(ctx, id)),
    lead: guard(() => { localStorage.removeItem('hallmark.last'); return showLead(ctx); }),
    recovery: (r) => showRecovery(ctx, r),
    enrollment: guard(() => { localStorage.removeItem('hallmark.last'); return showEnrollment(ctx); }),
  };
  return ctx;
}

async function start() {
  let backend = tauriBackend;
  if (!available) {
    // Plain browser: run on the fake backend with a fixture (see ui/test/).
    const { fakeBackend } = await import('./fake-backend.js');
    const fixture = await (await fetch('test/fixture.json')).json();
    backend = fakeBackend(fixture);
  }
  const ctx = context(backend);
  $('#home').addEventListener('click', () => ctx.go.list());
  $('#lead').addEventListener('click', () => ctx.go.lead());
  setupSignpad();
  $('#viewer .close').addEventListener('click', () => { $('#viewer').hidden = true; });
  try {
    const broken = await backend.recoveryInfo();
    if (broken) { ctx.go.recovery(broken); return; }
    const [list, info] = await Promise.all([backend.listInspections(), backend.appInfo()]);
    ctx.info = info;
    // Resume the inspector's own last inspection; never a colleague's imported one.
    const last = localStorage.getItem('hallmark.last');
    const own = list.filter((s) => isLocal(s, info) !== false);
    const resume = own.find((s) => s.id === last) || own.find((s) => isLocal(s, info) === true && !s.finished);
    if (resume) await showInspection(ctx, resume.id); else await showList(ctx);
    requestAnimationFrame(() => backend.appInfo(true).catch(() => {}));
  } catch (e) {
    toast(errorText(e));
    await showList(ctx).catch(() => {});
  }
}

start();
