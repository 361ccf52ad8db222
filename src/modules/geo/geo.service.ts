import { createReadStream, readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { Insertable } from 'kysely';
import type { GeoAreaKind, GeoPostcodesTable } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { isPseudoCode, kindOfCode, readBoundaries } from '../../lib/geo.ts';
import { normaliseUkPostcode } from '../../lib/postcode.ts';
import type { StatsRepository } from '../stats/stats.repository.ts';
import type { GeoRepository } from './geo.repository.ts';

export type GeoFileKind = 'postcodes' | 'names' | 'population';

export interface ImportProgress {
  bytesRead: number;
  bytesTotal: number;
  rows: number;
}

export interface ImportSummary {
  file: GeoFileKind;
  rows: number;
  imported: number;
  skipped: number;
  /** Distinct areas seen per kind (postcode files) or named / given a population. */
  areas: Partial<Record<GeoAreaKind, number>>;
  /** Signatures given before their postcode was known that now have areas (postcode files). */
  signaturesPlaced: number;
  seconds: number;
}

/** Which column of an ONS postcode file holds each thing (names differ between ONSPD, NSPL and years). */
const POSTCODE_COLUMNS = {
  postcode: [/^pcds$/, /^pcd$/, /^pcd2$/, /^pcd[78]$/, /^postcode$/],
  constituency: [/^pcon$/, /^pcon\d*cd$/],
  local_authority: [/^(os)?laua$/, /^lad\d*cd$/],
  ward: [/^(os)?ward$/, /^wd\d*cd$/],
  region: [/^rgn$/, /^rgn\d*cd$/],
  country: [/^ctry$/, /^ctry\d*cd$/],
} as const;

type PostcodeColumn = keyof typeof POSTCODE_COLUMNS;

/** Area code and population columns of names and population-estimate files. */
const CODE_COLUMN = /(cd$|^code$|^geography[ _]code$)/;
const POPULATION_COLUMN = /^(population|all ages|all_ages|pop|obs_value|observation)$/;

function findColumn(header: string[], patterns: readonly RegExp[]): string | null {
  for (const pattern of patterns) {
    const hit = header.find((h) => pattern.test(h));
    if (hit) return hit;
  }
  return null;
}

/** What an ONS CSV holds, told from its header. */
export function detectGeoFile(header: string[]): GeoFileKind | null {
  if (findColumn(header, POSTCODE_COLUMNS.postcode)) return 'postcodes';
  if (header.some((h) => POPULATION_COLUMN.test(h)) && header.some((h) => CODE_COLUMN.test(h))) return 'population';
  if (header.some((h) => /cd$/.test(h)) && header.some((h) => /nm$/.test(h))) return 'names';
  return null;
}

const BATCH = 5_000;

/**
 * Imports the ONS files an operator downloads: the Postcode Directory (ONSPD) or the National
 * Statistics Postcode Lookup (NSPL), the "names and codes" files that come with them, and
 * population estimates. Files are streamed, so the 2.7 million rows of a full directory never sit
 * in memory; importing again updates what is held.
 */
export class GeoService {
  constructor(
    private readonly geo: GeoRepository,
    private readonly stats: StatsRepository,
    /** Called after boundaries change, so maps are drawn afresh. */
    private readonly onBoundariesChanged: () => void = () => {},
  ) {}

  async importFile(path: string, onProgress: (p: ImportProgress) => void = () => {}): Promise<ImportSummary> {
    const started = Date.now();
    const bytesTotal = statSync(path).size;
    const input = createReadStream(path);
    let header: string[] = [];
    // Rows as arrays, not objects: a full directory has 2.7 million rows of 50-odd columns.
    const parser = input.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
    let kind: GeoFileKind | null = null;
    let rows = 0;
    let imported = 0;
    let skipped = 0;
    const areasSeen = new Map<string, GeoAreaKind>();
    const names = new Map<string, string>();
    const populations = new Map<string, number>();
    let postcodes: Insertable<GeoPostcodesTable>[] = [];
    let columns: Record<PostcodeColumn, number> | null = null;

    const records = async function* () {
      try {
        for await (const fields of parser as AsyncIterable<string[]>) {
          if (header.length === 0) {
            header = fields.map((n) => n.trim().toLowerCase());
            continue;
          }
          yield fields;
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('validation_failed', `Not a CSV file this import understands: ${(err as Error).message}`);
      }
    };
    for await (const record of records()) {
      if (!kind) {
        kind = detectGeoFile(header);
        if (!kind) {
          input.destroy();
          throw new AppError('validation_failed', `Not an ONS postcode, names or population file: the header is ${header.slice(0, 8).join(', ')}…`);
        }
        if (kind === 'postcodes') {
          columns = Object.fromEntries(Object.entries(POSTCODE_COLUMNS).map(([k, p]) => [k, header.indexOf(findColumn(header, p) ?? '')])) as Record<PostcodeColumn, number>;
        }
      }
      rows++;
      if (kind === 'postcodes') {
        const row = this.postcodeRow(record, columns!);
        if (!row) {
          skipped++;
        } else {
          postcodes.push(row);
          for (const code of [row.constituency, row.local_authority, row.ward, row.region]) {
            const areaKind = code ? kindOfCode(code) : null;
            if (code && areaKind) areasSeen.set(code, areaKind);
          }
        }
        if (postcodes.length >= BATCH) {
          await this.geo.upsertPostcodes(postcodes);
          imported += postcodes.length;
          postcodes = [];
          onProgress({ bytesRead: input.bytesRead, bytesTotal, rows });
        }
      } else {
        const code = record.find((v, i) => CODE_COLUMN.test(header[i] ?? '') && kindOfCode(v.trim()))?.trim();
        if (!code) {
          skipped++;
          continue;
        }
        areasSeen.set(code, kindOfCode(code)!);
        const name = record.find((v, i) => /nm$/.test(header[i] ?? '') && v.trim())?.trim();
        if (name) names.set(code, name);
        if (kind === 'population') {
          const raw = record[header.findIndex((h) => POPULATION_COLUMN.test(h))] ?? '';
          const population = Number(raw.replace(/,/g, ''));
          if (Number.isFinite(population) && population > 0) populations.set(code, Math.round(population));
          else skipped++;
        }
        if (rows % 5000 === 0) onProgress({ bytesRead: input.bytesRead, bytesTotal, rows });
      }
    }
    if (!kind) throw new AppError('validation_failed', 'The file is empty.');

    let signaturesPlaced = 0;
    if (kind === 'postcodes') {
      await this.geo.upsertPostcodes(postcodes);
      imported += postcodes.length;
      await this.geo.upsertAreas([...areasSeen].map(([code, k]) => ({ code, kind: k })));
      // Signatures given before these postcodes were known get their areas, and their counts follow.
      const petitions = await this.geo.fillSignatureAreas();
      for (const petitionId of petitions) await this.stats.rebuild(petitionId);
      signaturesPlaced = petitions.length;
    } else {
      const list = [...areasSeen].map(([code, k]) => ({ code, kind: k, name: names.get(code) ?? null, population: populations.get(code) ?? null }));
      const useful = list.filter((a) => a.name || a.population);
      await this.geo.upsertAreas(useful);
      imported = useful.length;
    }
    onProgress({ bytesRead: bytesTotal, bytesTotal, rows });
    const areas: Partial<Record<GeoAreaKind, number>> = {};
    for (const k of areasSeen.values()) areas[k] = (areas[k] ?? 0) + 1;
    return { file: kind, rows, imported, skipped, areas, signaturesPlaced, seconds: (Date.now() - started) / 1000 };
  }

  /** Imports area boundaries from a GeoJSON or TopoJSON file; returns how many areas of each kind. */
  async importBoundaries(path: string): Promise<{ areas: Partial<Record<GeoAreaKind, number>>; skipped: number }> {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new AppError('validation_failed', `Could not read ${path} as JSON: ${(err as Error).message}`);
    }
    let read;
    try {
      read = readBoundaries(json);
    } catch (err) {
      throw new AppError('validation_failed', (err as Error).message);
    }
    await this.geo.upsertBoundaries(read.features.map((f) => ({ code: f.code, kind: f.kind, geometry: JSON.stringify(f.geometry) })));
    await this.geo.upsertAreas(read.features.map((f) => ({ code: f.code, kind: f.kind, name: f.name })));
    this.onBoundariesChanged();
    const areas: Partial<Record<GeoAreaKind, number>> = {};
    for (const f of read.features) areas[f.kind] = (areas[f.kind] ?? 0) + 1;
    return { areas, skipped: read.skipped };
  }

  /** One postcode row as stored, or null when it has no valid postcode. */
  private postcodeRow(record: string[], columns: Record<PostcodeColumn, number>): Insertable<GeoPostcodesTable> | null {
    const postcode = normaliseUkPostcode(record[columns.postcode] ?? '');
    if (!postcode) return null;
    const code = (column: PostcodeColumn) => {
      const value = columns[column] === -1 ? '' : (record[columns[column]]?.trim() ?? '');
      return value && !isPseudoCode(value) ? value : null;
    };
    const country = code('country');
    // Outside England the directory has no region (a pseudo-code): the nation stands in for it.
    const region = code('region') ?? (country && kindOfCode(country) === 'region' ? country : null);
    return { postcode, country, region, constituency: code('constituency'), local_authority: code('local_authority'), ward: code('ward') };
  }
}
