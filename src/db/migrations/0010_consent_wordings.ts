import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/**
 * Signatures refer to the consent wording they were given under instead of each carrying a copy
 * of it (the words of both consents, ~100 bytes, the same for every signer of a wording and
 * language: a tenth of a big petition's disk). The consent's moment is the signature's
 * `created_at`. And the index for reinstating invalidated signatures covers only those.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema
    .createTable('consent_wordings')
    .addColumn('id', t.idType, t.id)
    // JSON {public_name, contact_opt_in}: the words of each consent ticked, null for one not ticked.
    .addColumn('wording', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema.alterTable('signatures').addColumn('consent_wording_id', t.refType, (c) => c.references('consent_wordings.id')).execute();

  // Existing records, in batches: {public_name, contact_opt_in, at} becomes a wording and created_at.
  const ids = new Map<string, number>();
  for (let after = 0; ; ) {
    const rows = await db.selectFrom('signatures').select(['id', 'consent']).where('id', '>', after).where('consent', 'is not', null).orderBy('id').limit(5000).execute();
    if (rows.length === 0) break;
    const byWording = new Map<string, number[]>();
    for (const row of rows as { id: number; consent: string }[]) {
      const { public_name = null, contact_opt_in = null } = JSON.parse(row.consent) as { public_name?: string | null; contact_opt_in?: string | null };
      const wording = JSON.stringify({ public_name, contact_opt_in });
      byWording.set(wording, [...(byWording.get(wording) ?? []), row.id]);
    }
    for (const [wording, signatureIds] of byWording) {
      let id = ids.get(wording);
      if (id === undefined) {
        await db.insertInto('consent_wordings').values({ wording }).onConflict((oc) => oc.column('wording').doNothing()).execute();
        id = Number((await db.selectFrom('consent_wordings').select('id').where('wording', '=', wording).executeTakeFirstOrThrow()).id);
        ids.set(wording, id);
      }
      await db.updateTable('signatures').set({ consent_wording_id: id }).where('id', 'in', signatureIds).execute();
    }
    after = Number(rows.at(-1)!.id);
  }
  await db.schema.alterTable('signatures').dropColumn('consent').execute();

  await db.schema.dropIndex('signatures_invalidation').execute();
  await db.schema.createIndex('signatures_invalidation').on('signatures').column('invalidation_id').where(sql.ref('invalidation_id'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signatures_invalidation').execute();
  await db.schema.createIndex('signatures_invalidation').on('signatures').column('invalidation_id').execute();
  await db.schema.alterTable('signatures').addColumn('consent', 'text').execute();
  const kind = dialectOf(db);
  const at = kind === 'postgres' ? sql`to_char(signatures.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : sql`signatures.created_at`;
  const record =
    kind === 'postgres'
      ? sql`(select (w.wording::jsonb || jsonb_build_object('at', ${at}))::text from consent_wordings w where w.id = signatures.consent_wording_id)`
      : sql`(select json_set(w.wording, '$.at', ${at}) from consent_wordings w where w.id = signatures.consent_wording_id)`;
  await sql`update signatures set consent = ${record} where consent_wording_id is not null`.execute(db);
  await db.schema.alterTable('signatures').dropColumn('consent_wording_id').execute();
  await db.schema.dropTable('consent_wordings').execute();
}
