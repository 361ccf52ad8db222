import assert from 'node:assert/strict';
import { CompiledQuery, Migrator, sql, type Kysely, type Migration } from 'kysely';
import { after, before, it } from 'node:test';
import { describeEachDatabase, openTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts';
import { migrations } from './index.ts';

describeEachDatabase('migration 0010 (consent wordings)', (kind) => {
  let t: TestDatabase;
  let migrator: Migrator;
  before(async () => {
    t = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: t.db.kysely, provider: { getMigrations: async () => migrations as Record<string, Migration> } });
    const to = await migrator.migrateTo('0009_languages');
    if (to.error) throw to.error;
  });
  after(() => t.cleanup());

  it('turns each signature’s consent record into a shared wording and back, losing nothing', async () => {
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const owner = await db.insertInto('users').values({ email: 'o@example.org', name: 'O', password_hash: 'x', role: 'campaigner', created_at: now }).returning('id').executeTakeFirstOrThrow();
    const petition = await db
      .insertInto('petitions')
      .values({ slug: 'p', title: 'Keep the unit open', action: 'a', background: 'b', target_name: 't', state: 'open', owner_id: owner.id, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const records = [
      { public_name: 'Show my name publicly as a supporter', contact_opt_in: null },
      { public_name: null, contact_opt_in: 'Email me about this campaign' },
      { public_name: 'Show my name publicly as a supporter', contact_opt_in: null },
      { public_name: 'Dangos fy enw yn gyhoeddus fel cefnogwr', contact_opt_in: null },
    ];
    const times = records.map((_, i) => `2026-11-0${i + 1}T09:30:00.000Z`);
    for (const [i, record] of records.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petition.id, name: `S${i}`, email: `s${i}@example.net`, email_key: `s${i}@example.net`, country: 'GB', status: 'confirmed', created_at: times[i], confirmation_requested_at: times[i], consent: JSON.stringify({ ...record, at: times[i] }) })
        .execute();
    }
    await db.insertInto('signatures').values({ petition_id: petition.id, name: 'Erased', email: '', email_key: 'erased:1', country: 'GB', status: 'confirmed', created_at: now, confirmation_requested_at: now, consent: null }).execute();

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    const wordings = await db.selectFrom('consent_wordings').selectAll().orderBy('id').execute();
    assert.equal(wordings.length, 3, 'one row per distinct wording');
    const rows = await db
      .selectFrom('signatures')
      .leftJoin('consent_wordings', 'consent_wordings.id', 'signatures.consent_wording_id')
      .select(['signatures.name', 'consent_wordings.wording'])
      .orderBy('signatures.id')
      .execute();
    assert.deepEqual(
      rows.map((r: { wording: string | null }) => (r.wording ? JSON.parse(r.wording) : null)),
      [...records, null],
    );

    const down = await migrator.migrateTo('0009_languages');
    if (down.error) throw down.error;
    const restored = await db.selectFrom('signatures').select(['consent']).orderBy('id').execute();
    assert.deepEqual(
      restored.map((r: { consent: string | null }) => (r.consent ? JSON.parse(r.consent) : null)),
      [...records.map((record, i) => ({ ...record, at: times[i] })), null],
    );
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

describeEachDatabase('query plans', (kind) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(kind);
  });
  after(() => t.cleanup());

  it('walks only the mailable signers, through their partial index, when mailing a petition', async () => {
    const { mailable } = await import('../../modules/signatures/signatures.repository.ts');
    const compiled = t.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', 1).where(mailable).where('id', '<=', 1000).orderBy('id').limit(100).compile();
    // With the parameters bound, as the app runs it.
    const explain = (c: { executeQuery: Kysely<unknown>['executeQuery'] }, prefix: string) => c.executeQuery(CompiledQuery.raw(`${prefix} ${compiled.sql}`, [...compiled.parameters]));
    const plan =
      kind === 'sqlite'
        ? (await explain(t.db.kysely, 'explain query plan')).rows.map((r) => (r as { detail: string }).detail).join('\n')
        : // Without rows or statistics PostgreSQL scans the table whatever the indexes; forbid that to see which it can use.
          await t.db.kysely.connection().execute(async (c) => {
            await sql`set enable_seqscan = off`.execute(c);
            const rows = (await explain(c, 'explain')).rows as { 'QUERY PLAN': string }[];
            await sql`reset enable_seqscan`.execute(c);
            return rows.map((r) => r['QUERY PLAN']).join('\n');
          });
    assert.match(plan, /signatures_contactable/, plan);
  });
});
