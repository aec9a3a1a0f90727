import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { deadLetterQueueOf, QUEUE_NAMES } from '../../src/workers/queues.js';
import { launchChromium, type TestBrowser } from '../support/browser.js';
import { failedJob, sampleEvent } from '../support/queue-jobs.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** Screenshots for docs/operations.md: refreshed with UPDATE_SCREENSHOTS=1, else kept out of the tree. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots';

describe('Operator dashboard in headless Chromium (sign-in page, retry as operator, tenant admins refused)', function () {
  this.timeout(30_000);
  let service: TestService;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    service = await startTestService(); // no worker roles: failed jobs stay failed until someone acts
    await failedJob(service, 'payments', 'retried-by-operator');
    await failedJob(service, 'payments', 'seen-by-admin');
    await service.services.deadLetterQueues.get('payments')!.add('OrderPlaced', {
      queue: 'payments',
      jobId: 'dead-one',
      name: 'OrderPlaced',
      data: sampleEvent('dead-one'),
      failedReason: 'declined by the gateway',
      attemptsMade: 5,
      deadLetteredAt: new Date().toISOString(),
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  beforeEach(async () => {
    await browser.context.clearCookies();
    page = await browser.context.newPage();
  });
  afterEach(() => page.close());
  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  /** Goes to the board, lands on the sign-in page, submits a token; answers the sign-in response. */
  async function signInThroughPage(roles: string[]) {
    await page.goto(`${service.url}/admin/queues`);
    expect(page.url()).to.equal(`${service.url}/admin/sign-in?reason=unauthenticated`);
    if (roles.includes('operator')) await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-sign-in.png') });
    await page.getByLabel('Bearer token (JWT)').fill(tokenFor(service.config, { sub: `${roles[0]}-1`, tenant: 'acme', roles }));
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState();
    return answer;
  }

  /** Job actions are icon buttons named only by their tooltip: hover each until one reads `name`. */
  async function jobActionNames(): Promise<string[]> {
    const names: string[] = [];
    const buttons = page.locator('main [data-base-ui-tooltip-trigger] button');
    for (const button of await buttons.all()) {
      await button.hover();
      const tooltip = page.locator('[role="presentation"][data-open] [data-open]');
      names.push(await tooltip.innerText());
      await page.mouse.move(0, 0);
      await tooltip.waitFor({ state: 'detached' });
    }
    return names;
  }

  async function openJob(queue: string, jobId: string) {
    await page.goto(`${service.url}/admin/queues/queue/${queue}/${jobId}`);
    await page.getByRole('tab', { name: 'Error' }).waitFor();
  }

  it('When an operator signs in through the page, then every queue and dead-letter queue is listed, and Retry takes a failed job out of failed', async () => {
    await signInThroughPage(['operator']);

    await page.waitForURL(`${service.url}/admin/queues`);
    await page.locator('nav').getByRole('link', { name: 'webhooks.dead-letter' }).waitFor();
    const listed = await page.locator('nav a[title]').evaluateAll((links) => links.map((link) => link.getAttribute('title')));
    expect(listed).to.deep.equal(QUEUE_NAMES.flatMap((name) => [name, deadLetterQueueOf(name)]));
    // The sidebar's link: the overview may list the same queue as a card too.
    await page.locator('nav').getByRole('link', { name: 'payments.dead-letter' }).click();
    await page.getByText('dead-one').first().waitFor();

    await openJob('payments', 'retried-by-operator');
    await page.getByRole('tab', { name: 'Data' }).click();
    await page.getByText('[redacted]').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-operator.png') });
    const names = await jobActionNames();
    expect(names).to.include('Retry').and.include('Clean');
    await page.locator('main [data-base-ui-tooltip-trigger] button').nth(names.indexOf('Retry')).click();
    const [retried] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/retried-by-operator/retry')),
      page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click(),
    ]);

    expect(retried.status()).to.equal(204);
    const state = await service.services.queues.get('payments')!.getJobState('retried-by-operator');
    expect(state, 'state in Redis after the retry').to.equal('waiting');
  });

  it('When a tenant admin signs in through the page, then it is refused with a message and the board stays closed', async () => {
    const answer = await signInThroughPage(['admin']);

    expect(answer.status()).to.equal(403);
    await page.getByRole('alert').getByText('it is for platform operators').waitFor();
    expect(await page.content()).not.to.include('seen-by-admin');
    await page.goto(`${service.url}/admin/queues/queue/payments?status=failed`);
    expect(page.url()).to.equal(`${service.url}/admin/sign-in?reason=unauthenticated`);
    expect(await service.services.queues.get('payments')!.getJobState('seen-by-admin')).to.equal('failed');
  });

  it("When an operator signs out from the board's user menu, then the session ends and the board asks for sign-in again", async () => {
    await signInThroughPage(['operator']);
    await page.waitForURL(`${service.url}/admin/queues`);

    await page.locator('header button[aria-haspopup="menu"]').click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByText('You are signed out.').waitFor();
    expect(await browser.context.cookies()).to.deep.equal([]);
    await page.goto(`${service.url}/admin/queues`);
    expect(page.url()).to.equal(`${service.url}/admin/sign-in?reason=unauthenticated`);
  });

  it('When a customer signs in through the page, then it is refused with a message and the board stays closed', async () => {
    const answer = await signInThroughPage(['customer']);

    expect(answer.status()).to.equal(403);
    await page.getByRole('alert').getByText('may not open the queue dashboard').waitFor();
    await page.goto(`${service.url}/admin/queues`);
    expect(page.url()).to.equal(`${service.url}/admin/sign-in?reason=unauthenticated`);
  });
});
