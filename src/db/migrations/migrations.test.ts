import assert from 'node:assert/strict';
import { CompiledQuery, Migrator, sql, type Kysely, type Migration } from 'kysely';
import { after, before, it } from 'node:test';
import { describeEachDatabase, openTestDatabase, type DatabaseKind, type TestDatabase } from '../../../test/helpers/db.ts';
import { signatureEmailDomain, signatureTimeColumn, signatureTimeIs, storedSignatureStatus, storedSignatureTimes } from '../dialect.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';
import { migrations } from './index.ts';
import { repositoriesFor } from '../../../test/helpers/repositories.ts';

describeEachDatabase('migration 0010 (consent wordings)', (kind) => {
  const at = databaseAt(kind, '0009_languages');

  it('turns each signature’s consent record into a shared wording and back, losing nothing', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petition = { id: await openPetitionRow(db, now) };
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

describeEachDatabase('migration 0012 (compact signatures)', (kind) => {
  const at = databaseAt(kind, '0011_contactable_index');

  it('keeps every time exactly, the ids and the order of ids, through the change and back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petition = { id: await openPetitionRow(db, now) };
    // Milliseconds, whole seconds, the last millisecond of a year, before 1970: all must survive.
    const times = ['2026-11-01T10:00:00.123Z', '2026-11-02T09:30:00.000Z', '2026-12-31T23:59:59.999Z', '1969-07-20T20:17:40.001Z'];
    for (const [i, at] of times.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petition.id, name: `S${i}`, email: `s${i}@example.net`, email_key: `s${i}@example.net`, country: 'GB', status: i % 2 ? 'pending' : 'confirmed', created_at: at, confirmed_at: i % 2 ? null : times[(i + 1) % times.length], confirmation_requested_at: at, ip_hash: 'abcdefghijklmnopqrstuv' })
        .execute();
    }
    // The highest id ever given was deleted: it must not be given again.
    const last = await db.insertInto('signatures').values({ petition_id: petition.id, name: 'Gone', email: 'g@example.net', email_key: 'g@example.net', country: 'GB', status: 'pending', created_at: now, confirmation_requested_at: now }).returning('id').executeTakeFirstOrThrow();
    await db.deleteFrom('signatures').where('id', '=', last.id).execute();
    const before = await db.selectFrom('signatures').select(['id', 'created_at', 'confirmed_at', 'confirmation_requested_at']).orderBy('id').execute();
    const asIso = (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, created_at: new Date(r.created_at as string).toISOString(), confirmed_at: r.confirmed_at ? new Date(r.confirmed_at as string).toISOString() : null, confirmation_requested_at: new Date(r.confirmation_requested_at as string).toISOString() }));

    const up = await migrator.migrateTo('0012_compact_signatures');
    if (up.error) throw up.error;
    const after = await db.selectFrom('signatures').select(['id', 'created_at', 'confirmed_at', 'confirmation_requested_at', 'ip_hash']).orderBy('id').execute();
    assert.deepEqual(asIso(after.map(({ ip_hash: _, ...r }: Record<string, unknown>) => r)), asIso(before));
    // Read back as the application reads them: ISO strings with milliseconds, as toISOString writes.
    assert.deepEqual(
      after.map((r: { created_at: string }) => r.created_at),
      times,
    );
    assert.deepEqual(
      after.map((r: { ip_hash: string }) => r.ip_hash),
      times.map(() => 'abcdefghijk'),
    );
    const next = await db.insertInto('signatures').values({ petition_id: petition.id, name: 'New', email: 'n@example.net', email_key: 'n@example.net', country: 'GB', status: 'pending', ...storedSignatureTimes(kind, { created_at: now, confirmation_requested_at: now }) }).returning(['id', 'created_at']).executeTakeFirstOrThrow();
    assert.ok(next.id > last.id, `id ${next.id} after ${last.id}`);
    assert.equal(new Date(next.created_at).toISOString(), now);
    await db.deleteFrom('signatures').where('id', '=', next.id).execute();

    const down = await migrator.migrateTo('0011_contactable_index');
    if (down.error) throw down.error;
    const restored = await db.selectFrom('signatures').select(['id', 'created_at', 'confirmed_at', 'confirmation_requested_at']).orderBy('id').execute();
    assert.deepEqual(asIso(restored), asIso(before));
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

describeEachDatabase('migration 0013 (email hashes)', (kind) => {
  const at = databaseAt(kind, '0012_compact_signatures');

  it('replaces each address kept twice by its hash, leaves erased signatures alone, and can go back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petition = { id: await openPetitionRow(db, now) };
    const emails = ['Ana.Lopez@Example.net', ' bo@example.net', ''];
    for (const [i, email] of emails.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petition.id, name: `S${i}`, email, email_key: email ? email.trim().toLowerCase() : 'erased:3', country: 'GB', status: 'confirmed', ...storedSignatureTimes(kind, { created_at: now, confirmation_requested_at: now }) })
        .execute();
    }
    const keys = async () => (await db.selectFrom('signatures').select('email_key').orderBy('id').execute()).map((r: { email_key: string }) => r.email_key);

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    assert.deepEqual(await keys(), [signatureEmailKey('ana.lopez@example.net'), signatureEmailKey('bo@example.net'), 'erased:3']);
    assert.match((await keys())[0], /^[\w-]{12}$/);

    const down = await migrator.migrateTo('0012_compact_signatures');
    if (down.error) throw down.error;
    assert.deepEqual(await keys(), ['ana.lopez@example.net', 'bo@example.net', 'erased:3']);
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

describeEachDatabase('migration 0014 (area sets)', (kind) => {
  const at = databaseAt(kind, '0013_signature_email_hash');

  it('turns each signature’s four area codes into one shared set, also for postcodes, and back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petition = { id: await openPetitionRow(db, now) };
    const westminster = { constituency: 'E14001172', local_authority: 'E09000033', ward: 'E05013806', region: 'E12000007' };
    const cardiff = { constituency: 'W07000050', local_authority: 'W06000015', ward: null, region: 'W92000004' };
    const none = { constituency: null, local_authority: null, ward: null, region: null };
    const areas = [westminster, cardiff, westminster, none];
    for (const [i, codes] of areas.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petition.id, name: `S${i}`, email: `s${i}@example.net`, email_key: `k${i}`, country: 'GB', status: 'confirmed', ...codes, ...storedSignatureTimes(kind, { created_at: now, confirmation_requested_at: now }) })
        .execute();
    }
    await db.insertInto('geo_postcodes').values({ postcode: 'SW1A 1AA', country: 'E92000001', ...westminster }).execute();

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    const sets = await db.selectFrom('area_sets').selectAll().orderBy('key').execute();
    assert.equal(sets.length, 2, 'one row per distinct combination');
    const rows = await db.selectFrom('signatures').leftJoin('area_sets as a', 'a.id', 'signatures.area_set_id').select(['signatures.area_set_id', 'a.constituency', 'a.local_authority', 'a.ward', 'a.region']).orderBy('signatures.id').execute();
    assert.deepEqual(
      rows.map(({ area_set_id: _, ...codes }: Record<string, unknown>) => codes),
      areas,
    );
    assert.equal(rows[0].area_set_id, rows[2].area_set_id);
    assert.equal(rows[3].area_set_id, null);
    const postcode = await db.selectFrom('geo_postcodes').select('area_set_id').executeTakeFirstOrThrow();
    assert.equal(postcode.area_set_id, rows[0].area_set_id);

    const down = await migrator.migrateTo('0013_signature_email_hash');
    if (down.error) throw down.error;
    const restored = await db.selectFrom('signatures').select(['constituency', 'local_authority', 'ward', 'region']).orderBy('id').execute();
    assert.deepEqual(restored, areas);
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

describeEachDatabase('migration 0015 (domains from addresses, requests cleared)', (kind) => {
  const at = databaseAt(kind, '0014_area_sets');

  it('keeps the domain only for erased signers and the last request only for pending ones, and can go back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petition = { id: await openPetitionRow(db, now) };
    const rows = [
      { email: 'Ana@Example.NET', status: 'confirmed', email_domain: 'example.net' },
      { email: 'bo@example.org', status: 'pending', email_domain: 'example.org' },
      { email: '', status: 'confirmed', email_domain: 'erased.example' },
    ];
    for (const [i, row] of rows.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petition.id, name: `S${i}`, email_key: `k${i}`, country: 'GB', ...row, ...storedSignatureTimes(kind, { created_at: now, confirmation_requested_at: now }) })
        .execute();
    }
    const read = async () => db.selectFrom('signatures').select(['email_domain', 'confirmation_requested_at', sql`${signatureEmailDomain(kind)}`.as('domain')]).orderBy('id').execute();

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    const after = await read();
    assert.deepEqual(
      after.map((r: { email_domain: string | null; domain: string }) => [r.email_domain, r.domain]),
      [
        [null, 'example.net'],
        [null, 'example.org'],
        ['erased.example', 'erased.example'],
      ],
    );
    assert.deepEqual(
      after.map((r: { confirmation_requested_at: string | null }) => r.confirmation_requested_at && new Date(r.confirmation_requested_at).toISOString()),
      [null, now, null],
    );

    const down = await migrator.migrateTo('0014_area_sets');
    if (down.error) throw down.error;
    const restored = await read();
    assert.deepEqual(
      restored.map((r: { email_domain: string | null }) => r.email_domain),
      ['example.net', 'example.org', 'erased.example'],
    );
    assert.ok(restored.every((r: { confirmation_requested_at: string | null }) => r.confirmation_requested_at !== null));
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

describeEachDatabase('migration 0017 (signature status code)', (kind) => {
  const at = databaseAt(kind, '0016_no_ip_index');

  it('keeps every status, reads and filters by it as before, and can go back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    const petitionId = await openPetitionRow(db, now);
    const statuses = ['confirmed', 'pending', 'invalidated', 'confirmed'] as const;
    for (const [i, status] of statuses.entries()) {
      await db
        .insertInto('signatures')
        .values({ petition_id: petitionId, name: `S${i}`, email: `s${i}@example.net`, email_key: `k${i}`, country: 'GB', contact_opt_in: 1, status, ...storedSignatureTimes(kind, { created_at: now, confirmed_at: status === 'pending' ? null : now }) })
        .execute();
    }
    const read = async () => (await db.selectFrom('signatures').select('status').orderBy('id').execute()).map((r: { status: string }) => r.status);

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    assert.deepEqual(await read(), [...statuses]);
    const confirmed = db.selectFrom('signatures').select((eb: any) => eb.fn.countAll().as('n')).where('petition_id', '=', petitionId).where('status', '=', 'confirmed');
    assert.equal(Number((await confirmed.executeTakeFirstOrThrow()).n), 2);
    if (kind === 'sqlite') {
      // The code is what is stored; the word is computed, and the partial indexes on it still serve.
      assert.deepEqual((await db.selectFrom('signatures').select('status_code').orderBy('id').execute()).map((r: { status_code: number }) => r.status_code), [1, 0, 2, 1]);
      assert.match(await planOf(t, confirmed.compile()), /signatures_petition_confirmed|signatures_contactable/);
      await db.insertInto('signatures').values({ petition_id: petitionId, name: 'New', email: 'n@example.net', email_key: 'k-new', country: 'GB', ...storedSignatureStatus(kind, 'pending'), ...storedSignatureTimes(kind, { created_at: now }) }).execute();
      await db.updateTable('signatures').set(storedSignatureStatus(kind, 'confirmed')).where('email_key', '=', 'k-new').execute();
      assert.deepEqual(await read(), [...statuses, 'confirmed']);
      await db.deleteFrom('signatures').where('email_key', '=', 'k-new').execute();
    }

    const down = await migrator.migrateTo('0016_no_ip_index');
    if (down.error) throw down.error;
    assert.deepEqual(await read(), [...statuses]);
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
    assert.deepEqual(await read(), [...statuses]);
  });
});

describeEachDatabase('migration 0019 (no rows for jobs done)', (kind) => {
  const at = databaseAt(kind, '0018_fraud_reports');

  it('deletes the rows of jobs done, keeping those waiting, running or given up', async () => {
    const { migrator } = at;
    const db = at.t.db.kysely as any;
    const now = '2026-11-01T10:00:00.000Z';
    for (const state of ['done', 'pending', 'done', 'running', 'dead', 'done']) {
      await db.insertInto('jobs').values({ kind: 'k', payload: JSON.stringify({ state }), state, attempts: 1, max_attempts: 8, run_at: now, created_at: now }).execute();
    }
    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    assert.deepEqual((await db.selectFrom('jobs').select('state').orderBy('id').execute()).map((r: { state: string }) => r.state), ['pending', 'running', 'dead']);
  });
});

/** A test database migrated up to `migration` and no further, for the tests of the describe block that calls it. */
function databaseAt(kind: DatabaseKind, migration: string): { t: TestDatabase; migrator: Migrator } {
  const at = {} as { t: TestDatabase; migrator: Migrator };
  before(async () => {
    at.t = await openTestDatabase(kind, { migrate: false });
    at.migrator = new Migrator({ db: at.t.db.kysely, provider: { getMigrations: async () => migrations as Record<string, Migration> } });
    const to = await at.migrator.migrateTo(migration);
    if (to.error) throw to.error;
  });
  after(() => at.t.cleanup());
  return at;
}

/** A campaigner and an open petition, as the tables stand at any migration since 0009; returns the petition's id. */
async function openPetitionRow(db: Kysely<any>, now: string): Promise<number> {
  const owner = await db.insertInto('users').values({ email: 'o@example.org', name: 'O', password_hash: 'x', role: 'campaigner', created_at: now }).returning('id').executeTakeFirstOrThrow();
  const petition = await db
    .insertInto('petitions')
    .values({ slug: 'p', title: 'Keep the unit open', action: 'a', background: 'b', target_name: 't', state: 'open', owner_id: owner.id, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return petition.id as number;
}

/** How the database would run a query, with its parameters bound as the app runs it. */
async function planOf(t: TestDatabase, compiled: CompiledQuery): Promise<string> {
  const explain = (c: { executeQuery: Kysely<unknown>['executeQuery'] }, prefix: string) => c.executeQuery(CompiledQuery.raw(`${prefix} ${compiled.sql}`, [...compiled.parameters]));
  return t.db.kind === 'sqlite'
    ? (await explain(t.db.kysely, 'explain query plan')).rows.map((r) => (r as { detail: string }).detail).join('\n')
    : // Without rows or statistics PostgreSQL scans the table whatever the indexes; forbid that to see which it can use.
      await t.db.kysely.connection().execute(async (c) => {
        await sql`set enable_seqscan = off`.execute(c);
        const rows = (await explain(c, 'explain')).rows as { 'QUERY PLAN': string }[];
        await sql`reset enable_seqscan`.execute(c);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
}

describeEachDatabase('query plans', (kind) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(kind);
  });
  after(() => t.cleanup());

  it('walks only the mailable signers, through their partial index, when mailing a petition', async () => {
    const { mailable } = await import('../../modules/signatures/signatures.repository.ts');
    const plan = await planOf(t, t.db.kysely.selectFrom('signatures').select('id').where('petition_id', '=', 1).where(mailable).where('id', '<=', 1000).orderBy('id').limit(100).compile());
    assert.match(plan, /signatures_contactable/, plan);
  });

  it('finds the n-th confirmation through the partial index of confirmed signatures, in its order', async () => {
    const { confirmedOnly } = await import('../../modules/signatures/signatures.repository.ts');
    const compiled = t.db.kysely
      .selectFrom('signatures')
      .select('confirmed_at')
      .where('petition_id', '=', 1)
      .where(confirmedOnly)
      .orderBy(sql.ref(signatureTimeColumn(kind, 'confirmed_at')))
      .orderBy('id')
      .offset(99)
      .limit(1)
      .compile();
    const plan = await planOf(t, compiled);
    assert.match(plan, /signatures_petition_confirmed/, plan);
    if (kind === 'sqlite') assert.doesNotMatch(plan, /TEMP B-TREE FOR ORDER BY/, plan);
  });

  it('finds a time window of a petition’s signatures through the index by time', async () => {
    const compiled = t.db.kysely
      .selectFrom('signatures')
      .select('id')
      .where('petition_id', '=', 1)
      .where(signatureTimeIs(kind, 'created_at', '>=', '2026-11-16T14:00:00.000Z'))
      .where(signatureTimeIs(kind, 'created_at', '<', '2026-11-16T14:10:00.000Z'))
      .compile();
    const plan = await planOf(t, compiled);
    assert.match(plan, /signatures_petition_created/, plan);
    if (kind === 'sqlite') assert.match(plan, /created_ms>\? AND created_ms<\?/, plan);
  });
});

describeEachDatabase('migration 0022 (the IP sweep by petition)', (kind) => {
  const at = databaseAt(kind, '0021_signers_erased');

  it('starts every petition\'s sweep at the oldest signature still holding an address, drops the index it replaces, and can go back', async () => {
    const { t, migrator } = at;
    const db = t.db.kysely as any;
    const petitionId = await openPetitionRow(db, '2026-09-01T10:00:00.000Z');
    const times = ['2026-09-02T10:00:00.000Z', '2026-10-05T10:00:00.123Z', '2026-10-06T10:00:00.000Z'];
    for (const [i, at] of times.entries()) {
      // The first's address was dropped by an earlier sweep.
      await db
        .insertInto('signatures')
        .values({ petition_id: petitionId, name: `S${i}`, email: `s${i}@example.net`, email_key: `k${i}`, country: 'GB', ip: i === 0 ? null : `203.0.113.${i}`, ...storedSignatureStatus(kind, 'confirmed'), ...storedSignatureTimes(kind, { created_at: at, confirmed_at: at }) })
        .execute();
    }
    const indexes = () => indexNames(t, 'signatures');
    assert.ok((await indexes()).includes('signatures_ip_kept'));

    const up = await migrator.migrateToLatest();
    if (up.error) throw up.error;
    assert.equal((await db.selectFrom('petitions').select('ips_dropped_before').where('id', '=', petitionId).executeTakeFirstOrThrow()).ips_dropped_before, times[1]);
    assert.ok(!(await indexes()).includes('signatures_ip_kept'));
    const repos = repositoriesFor(t.db);
    assert.equal(await repos.signatures.dropIpAddresses('2026-11-10T00:00:00.000Z', 10), 2);

    const down = await migrator.migrateTo('0021_signers_erased');
    if (down.error) throw down.error;
    assert.ok((await indexes()).includes('signatures_ip_kept'));
    const again = await migrator.migrateToLatest();
    if (again.error) throw again.error;
  });
});

/** The names of a table's indexes. */
async function indexNames(t: TestDatabase, table: string): Promise<string[]> {
  const rows =
    t.db.kind === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table}`.execute(t.db.kysely)
      : await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = ${table}`.execute(t.db.kysely);
  return rows.rows.map((r) => r.name);
}
