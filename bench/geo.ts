/**
 * Where-and-when benchmark: imports a synthetic ONS Postcode Directory of BENCH_GEO_ROWS rows
 * (default 300,000; the real file has about 2.7 million) and folds BENCH_TALLY_ROWS queued
 * confirmations (default 100,000) into per-area and hourly counts, on a fresh SQLite database
 * (and PostgreSQL when TEST_DATABASE_URL is set). Reports time and peak memory.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp } from '../test/helpers/app.ts';
import { POSTGRES_URL } from '../test/helpers/db.ts';
import { createPetition } from '../test/helpers/factories.ts';
import { StatsService } from '../src/modules/stats/stats.service.ts';
import { measure } from './handin.ts';

const GEO_ROWS = Number(process.env.BENCH_GEO_ROWS ?? 300_000);
const TALLY_ROWS = Number(process.env.BENCH_TALLY_ROWS ?? 100_000);
const HEADER =
  'pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua22,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21';
const LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** The n-th synthetic (valid-looking) postcode: 4,000 per district over districts AB1…ZE9. */
function postcode(n: number): string {
  const district = `${['AB', 'AL', 'B', 'BA', 'BB', 'BD', 'BH', 'BL', 'BN', 'BR'][Math.floor(n / 4000 / 20) % 10]}${1 + (Math.floor(n / 4000) % 20)}`;
  const k = n % 4000;
  return `${district} ${Math.floor(k / 400)}${LETTERS[Math.floor(k / 20) % 20]}${LETTERS[k % 20]}`;
}

async function writeDirectory(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const filler = ','.repeat(21);
  out.write(`${HEADER}\n`);
  for (let n = 0; n < rows; n++) {
    const pc = postcode(n);
    const line = `"${pc}","${pc}","${pc}",198001,,,,E0${6000000 + ((n >> 12) % 300)},E0${5000000 + ((n >> 9) % 9000)},,0,,,1,,,E92000001,E12000007,,E1400${1000 + ((n >> 11) % 650)}${filler}51.5,-0.1${','.repeat(10)}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function runGeoBench(): Promise<Record<string, string | number>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'undersign-bench-geo-'));
  const file = join(dir, 'onspd.csv');
  await writeDirectory(file, GEO_ROWS);
  const results: Record<string, string | number>[] = [];
  try {
    for (const kind of POSTGRES_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
      const t = await createTestApp(kind);
      try {
        const imported = await measure(async () => (await t.ctx.services.geo.importFile(file)).imported);
        results.push({ scenario: 'geo import (ONSPD rows)', database: kind, rows: GEO_ROWS, seconds: (imported.ms / 1000).toFixed(2), 'rows/s': Math.round(GEO_ROWS / (imported.ms / 1000)), 'peak RSS MB': imported.peakRssMb.toFixed(0) });

        const { petition } = await createPetition(t.ctx);
        const start = Date.parse('2026-11-01T00:00:00Z');
        const rows = Array.from({ length: TALLY_ROWS }, (_, i) => {
          const at = new Date(start + i * 7_000).toISOString();
          return { petition_id: petition.id, name: 'Bench Signer', email: `b${i}@bench.test`, postcode: postcode(i % GEO_ROWS), country: 'GB', constituency: `E1400${1000 + (i % 650)}`, local_authority: `E0${6000000 + (i % 300)}`, ward: `E0${5000000 + (i % 9000)}`, region: 'E12000007', public_name: 0, contact_opt_in: 0, status: 'confirmed' as const, created_at: at, confirmed_at: at, confirmation_requested_at: at };
        });
        await t.ctx.repositories.signatures.insertMany(rows);
        const folded = await measure(async () => t.ctx.services.stats.fold());
        results.push({ scenario: 'fold queued confirmations', database: kind, rows: TALLY_ROWS, seconds: (folded.ms / 1000).toFixed(2), 'rows/s': Math.round(TALLY_ROWS / (folded.ms / 1000)), 'peak RSS MB': folded.peakRssMb.toFixed(0) });
        const fresh = await t.ctx.services.petitions.getById(petition.id);
        const read = await measure(async () => {
          // A new service each time: nothing cached.
          for (let i = 0; i < 20; i++) await new StatsService(t.ctx.repositories.stats, () => new Date(), { timeZone: 'Europe/London' }).forPetition(fresh!, i % 2 ? 'hour' : 'day');
          return 0;
        });
        results.push({ scenario: 'stats read (uncached, 9,000+ areas, 8 days of hours)', database: kind, rows: 2, seconds: (read.ms / 1000 / 20).toFixed(3), 'rows/s': '', 'peak RSS MB': read.peakRssMb.toFixed(0) });
      } finally {
        await t.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
