import { expect } from 'chai';
import { failedJob } from '../support/queue-jobs.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** The dashboard's HTTP contract without a browser: session cookie, roles, CSRF, redaction. */
describe('Operator dashboard over HTTP (sign-in, roles, CSRF)', () => {
  let service: TestService;
  let sameOrigin: Record<string, string>;

  before(async () => {
    service = await startTestService();
    sameOrigin = { origin: service.url, 'sec-fetch-site': 'same-origin' };
  });
  after(() => service.stop());

  const token = (roles: string[], tenant = 'acme') => tokenFor(service.config, { sub: `${roles[0]}-1`, tenant, roles });
  const send = (path: string, init: RequestInit = {}) => fetch(`${service.url}${path}`, { redirect: 'manual', ...init });

  function signIn(roles: string[], headers: Record<string, string> = sameOrigin) {
    return send('/admin/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: token(roles) }),
    });
  }

  async function sessionOf(roles: string[]): Promise<string> {
    const response = await signIn(roles);
    expect(response.status, await response.clone().text()).to.equal(303);
    return response.headers.get('set-cookie')!.split(';')[0]!;
  }

  const jobState = (queue: 'payments', jobId: string) => service.services.queues.get(queue)!.getJobState(jobId);

  it('When nobody is signed in, then pages redirect to the sign-in page and the board API answers 401 problem+json', async () => {
    const page = await send('/admin/queues/queue/payments');
    const api = await send('/admin/queues/api/queues');

    expect(page.status).to.equal(303);
    expect(page.headers.get('location')).to.equal('/admin/sign-in?reason=unauthenticated');
    expect(api.status).to.equal(401);
    expect(api.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(((await api.json()) as { type: string }).type).to.equal('/problems/auth.unauthenticated');
  });

  it('When an operator signs in, then the session cookie is HttpOnly, SameSite=Strict, scoped to /admin, and Secure behind TLS', async () => {
    const plain = await signIn(['operator']);
    const behindTls = await signIn(['operator'], { ...sameOrigin, 'x-forwarded-proto': 'https' });

    expect(plain.status).to.equal(303);
    expect(plain.headers.get('location')).to.equal('/admin/queues');
    const cookie = plain.headers.get('set-cookie')!;
    expect(cookie).to.match(/^cqrs_dashboard_session=ey/);
    expect(cookie)
      .to.match(/; HttpOnly/)
      .and.match(/; SameSite=Strict/)
      .and.match(/; Path=\/admin/);
    expect(cookie).not.to.match(/; Secure/);
    expect(behindTls.headers.get('set-cookie')).to.match(/; Secure/);
  });

  it('When a signed-in operator opens the board, then it answers with a CSP of its own that allows scripts from itself only', async () => {
    const board = await send('/admin/queues', { headers: { cookie: await sessionOf(['operator']) } });
    const csp = board.headers.get('content-security-policy')!;

    expect(board.status).to.equal(200);
    expect(await board.text()).to.include('<base href="/admin/queues/"');
    expect(csp).to.include("script-src 'self'").and.include("frame-ancestors 'none'");
    expect(board.headers.get('cache-control')).to.equal('no-store');
    const v1 = await send('/v1/orders');
    expect(v1.headers.get('content-security-policy')).not.to.include("frame-ancestors 'none'");
  });

  it('When the token is bad, or its roles are not operator, then sign-in answers 401/403 with the form and sets no cookie', async () => {
    const bad = await send('/admin/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameOrigin },
      body: 'token=not-a-jwt',
    });
    const customer = await signIn(['customer']);
    const staff = await signIn(['staff']);
    const admin = await signIn(['admin']);

    expect([bad.status, customer.status, staff.status, admin.status]).to.deep.equal([401, 403, 403, 403]);
    expect(await customer.text()).to.include('may not open the queue dashboard');
    for (const response of [bad, customer, staff, admin]) expect(response.headers.get('set-cookie')).to.equal(null);
  });

  it('When a customer token is put in the cookie by hand, then pages redirect (forbidden) and the board API answers 403', async () => {
    const cookie = `cqrs_dashboard_session=${token(['customer'])}`;
    const page = await send('/admin/queues', { headers: { cookie } });
    const api = await send('/admin/queues/api/queues', { headers: { cookie } });

    expect(page.headers.get('location')).to.equal('/admin/sign-in?reason=forbidden');
    expect(api.status).to.equal(403);
    expect(api.headers.get('content-type')).to.match(/^application\/problem\+json/);
  });

  it('When a tenant admin (of this tenant or another) gets a session cookie by hand, then no page or API route of the board shows anything, and changes are refused', async () => {
    const reason = 'gateway refused at /srv/app/dist/src/workers/processes/payments.worker.js:42';
    await failedJob(service, 'payments', 'admin-probe', reason);
    const routes = [
      '/admin/queues/api/queues',
      '/admin/queues/api/queues?activeQueue=payments&status=failed',
      '/admin/queues/api/queues/payments/admin-probe',
      '/admin/queues/api/queues/payments/admin-probe/logs',
      '/admin/queues/queue/payments/admin-probe',
    ];
    for (const tenant of ['acme', 'globex']) {
      const cookie = `cqrs_dashboard_session=${token(['admin'], tenant)}`;
      for (const route of routes) {
        const shown = await send(route, { headers: { cookie } });
        const text = await shown.text();
        expect([302, 303, 403], `${tenant} ${route}`).to.include(shown.status);
        for (const secret of [reason, '/srv/app', 'OrderPlaced', 'ada@example.com']) expect(text, route).not.to.include(secret);
      }
      const retry = await send('/admin/queues/api/queues/payments/admin-probe/retry', {
        method: 'PUT',
        headers: { cookie, ...sameOrigin },
      });
      expect(retry.status).to.equal(403);
    }
    expect(await jobState('payments', 'admin-probe')).to.equal('failed');
    const operatorView = await send('/admin/queues/api/queues/payments/admin-probe', {
      headers: { cookie: await sessionOf(['operator']) },
    });
    expect(await operatorView.text(), 'operators do see the failure').to.include('gateway refused');
  });

  it('When a change to a job comes from another site, or says nothing of its origin, then it is 403 and the job stays failed', async () => {
    await failedJob(service, 'payments', 'csrf-target');
    const cookie = await sessionOf(['operator']);
    const retry = (headers: Record<string, string>) =>
      send('/admin/queues/api/queues/payments/csrf-target/retry', { method: 'PUT', headers: { cookie, ...headers } });

    const crossSite = await retry({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    const foreignOrigin = await retry({ origin: 'https://evil.example' });
    const nullOrigin = await retry({ origin: 'null' });
    const silent = await retry({});

    for (const refused of [crossSite, foreignOrigin, nullOrigin, silent]) {
      expect(refused.status).to.equal(403);
      expect(((await refused.json()) as { type: string }).type).to.equal('/problems/request.cross-origin');
    }
    expect(await jobState('payments', 'csrf-target')).to.equal('failed');
    const sameSite = await retry({ origin: service.url });
    expect(sameSite.status).to.equal(204);
    expect(await jobState('payments', 'csrf-target')).to.equal('waiting');
    await service.services.queues.get('payments')!.remove('csrf-target'); // failedJob() needs an empty wait list
  });

  it('When a sign-in form is posted from another site, then it is refused (no login CSRF)', async () => {
    const forged = await signIn(['operator'], { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    expect(forged.status).to.equal(403);
    expect(forged.headers.get('set-cookie')).to.equal(null);
  });

  it('When an operator asks the board for something other than retry, remove or promote, then it is 403 and nothing changes', async () => {
    await failedJob(service, 'payments', 'edit-target');
    const cookie = await sessionOf(['operator']);
    const headers = { cookie, ...sameOrigin, 'content-type': 'application/json' };

    const pause = await send('/admin/queues/api/queues/payments/pause', { method: 'PUT', headers });
    const edit = await send('/admin/queues/api/queues/payments/edit-target/update-data', {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ jobData: { payload: 'overwritten' } }),
    });
    const remove = await send('/admin/queues/api/queues/payments/edit-target/clean', { method: 'PUT', headers });

    expect([pause.status, edit.status]).to.deep.equal([403, 403]);
    expect(await service.services.queues.get('payments')!.isPaused()).to.equal(false);
    expect(remove.status).to.equal(204);
    expect(await service.services.queues.get('payments')!.getJob('edit-target')).to.equal(undefined);
  });

  it('When the board shows a job, then the event envelope is visible and the payload (business data) is redacted', async () => {
    await failedJob(service, 'payments', 'redacted-job');
    const cookie = await sessionOf(['operator']);

    const shown = await send('/admin/queues/api/queues/payments/redacted-job', { headers: { cookie } });

    const { job } = (await shown.json()) as { job: { data: Record<string, unknown> } };
    expect(job.data).to.include({ id: 'redacted-job', tenantId: 'acme', type: 'OrderPlaced', payload: '[redacted]' });
    expect(JSON.stringify(job)).not.to.include('ada@example.com');
    const stored = await service.services.queues.get('payments')!.getJob('redacted-job');
    expect(stored!.data.payload.customer.email, 'the job itself keeps its data').to.equal('ada@example.com');
  });

  it('When the operator signs out, then the cookie is cleared and the board asks for sign-in again', async () => {
    const cookie = await sessionOf(['operator']);
    const signOut = await send('/admin/sign-out', { method: 'POST', headers: { cookie, ...sameOrigin } });

    expect(signOut.status).to.equal(303);
    expect(signOut.headers.get('location')).to.equal('/admin/sign-in?reason=signed-out');
    expect(signOut.headers.get('set-cookie')).to.match(/^cqrs_dashboard_session=;.*Expires=Thu, 01 Jan 1970/);
  });
});
