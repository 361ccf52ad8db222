import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { describeEachDatabase } from '../../test/helpers/db.ts';
import { createPetition, signerInput } from '../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../test/helpers/mail.ts';
import { CONFIRMATION_JOB } from '../modules/signatures/signatures.service.ts';
import { SiteMetrics, startMetricsServer, type MetricSources } from './metrics.ts';

/** A sample's value in Prometheus's text format: the line for `name` with exactly these labels (`{a="b"}` or ''). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describeEachDatabase('metrics for Prometheus', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-12-07T12:00:00Z');

  before(async () => {
    t = await createTestApp(kind, { config: { metrics: { host: '127.0.0.1', port: 0 } }, overrides: { clock: () => new Date(now) } });
  });
  after(() => t.close());

  it('counts requests by route pattern, signatures received and confirmed, commits and jobs', async () => {
    const { petition } = await createPetition(t.ctx);
    await t.drainJobs();
    const signer = signerInput();
    const signed = await t.app.inject({ method: 'POST', url: `/api/v1/petitions/${petition.slug}/signatures`, payload: signer });
    assert.equal(signed.statusCode, 202);
    await t.app.inject({ method: 'GET', url: '/no/such/page' });

    let text = await t.ctx.metrics.text();
    assert.equal(sample(text, 'undersign_http_requests_total', '{method="POST",route="/api/v1/petitions/:slug/signatures",status="202"}'), 1);
    assert.equal(sample(text, 'undersign_http_requests_total', '{method="GET",route="unmatched",status="404"}'), 1);
    assert.equal(sample(text, 'undersign_http_request_duration_seconds_count', '{method="POST",route="/api/v1/petitions/:slug/signatures"}'), 1);
    assert.ok(!text.includes(petition.slug), 'no petition address in any label');
    assert.equal(sample(text, 'undersign_signatures_received_total'), 1);
    assert.equal(sample(text, 'undersign_signatures_confirmed_total'), 0);
    assert.equal(sample(text, 'undersign_commit_items_total', '{queue="signing"}'), 1);
    assert.equal(sample(text, 'undersign_commit_batches_total', '{queue="signing"}'), 1);
    assert.equal(sample(text, 'undersign_commit_waiting', '{queue="signing"}'), 0);
    // The confirmation email waits: one due, for as long as the clock has moved since.
    assert.equal(sample(text, 'undersign_jobs_due', `{kind="${CONFIRMATION_JOB}"}`), 1);
    now += 90_000;
    text = await t.ctx.metrics.text();
    assert.equal(sample(text, 'undersign_jobs_oldest_due_seconds', `{kind="${CONFIRMATION_JOB}"}`), 90, 'the lateness grows between readings of the queue');

    assert.equal(await t.drainJobs(), 1);
    const [mail] = await mailsTo(t.ctx, signer.email);
    for (let i = 0; i < 2; i++) assert.equal((await t.app.inject({ method: 'GET', url: confirmationPath(mail!.text) })).statusCode, 200);
    now += 16_000; // past the kept reading of the queue
    text = await t.ctx.metrics.text();
    assert.equal(sample(text, 'undersign_signatures_confirmed_total'), 1, 'a link followed twice confirms once');
    assert.equal(sample(text, 'undersign_jobs_finished_total', `{kind="${CONFIRMATION_JOB}",outcome="done"}`), 1);
    assert.equal(sample(text, 'undersign_jobs_due', `{kind="${CONFIRMATION_JOB}"}`), 0);
    assert.equal(sample(text, 'undersign_jobs_waiting', `{kind="${CONFIRMATION_JOB}"}`), 0);
    assert.equal(sample(text, 'undersign_http_requests_total', '{method="GET",route="/signatures/confirm",status="200"}'), 2);
    // PostgreSQL's pool is reported; SQLite has none.
    if (kind === 'postgres') assert.ok((sample(text, 'undersign_db_pool_connections', '{state="total"}') ?? 0) >= 1);
    else assert.equal(sample(text, 'undersign_db_pool_connections', '{state="total"}'), undefined);
  });
});

describe('the metrics server', () => {
  const sources: MetricSources = {
    signing: () => ({ received: 3, confirmed: 2, turnedAway: { signing: 1, confirming: 0 } }),
    commits: () => ({ signing: { batches: 2, items: 3, waiting: 0 } }),
    jobsFinished: () => new Map([['webhook.deliver', { done: 4, failed: 1 }]]),
    jobQueue: async () => [],
    pool: () => null,
  };

  it('serves /metrics in Prometheus’s text format on its own port, with Node’s own metrics, and nothing else', async () => {
    const metrics = new SiteMetrics(sources);
    metrics.collectProcessMetrics();
    metrics.observeRequest('GET', '/petitions/:slug', 200, 0.003);
    const server = await startMetricsServer(() => metrics.text(), '127.0.0.1', 0);
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.equal(sample(text, 'undersign_signing_turned_away_total', '{queue="signing"}'), 1);
      assert.equal(sample(text, 'undersign_jobs_finished_total', '{kind="webhook.deliver",outcome="failed"}'), 1);
      assert.equal(sample(text, 'undersign_http_request_duration_seconds_bucket', '{le="0.005",method="GET",route="/petitions/:slug"}'), 1);
      assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
