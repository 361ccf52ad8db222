import { TimeSlice } from '../../lib/time-slice.ts';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import { finished, pipeline, Readable } from 'node:stream';
import { areaOf } from '../../lib/areas.ts';
import { isCountryCode } from '../../lib/countries.ts';
import { AppError, validationError } from '../../lib/errors.ts';
import { normaliseUkPostcode } from '../../lib/postcode.ts';
import { Slots } from '../../lib/slots.ts';
import { endOfDayInZone, type Clock } from '../../lib/time.ts';
import type { EndorsementsService } from '../endorsements/endorsements.service.ts';
import type { BroadcastsService } from '../mailings/broadcasts.service.ts';
import { authorize, type PetitionAction } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { TeamsRepository } from '../teams/teams.repository.ts';
import { checkImage, type UploadsRepository } from '../uploads/uploads.ts';
import type { User } from '../users/users.service.ts';
import { webhookEvent } from '../webhooks/events.ts';
import type { AuditRepository } from '../audit/audit.repository.ts';
import type { Delivery, HandinRepository, PaperBatch, Response, SignatureForExport } from './handin.repository.ts';
import { DeliveryInput, OUTCOME_LABELS, OutcomeInput, PaperBatchInput, PaperImportDetails, PaperRow, ResponseInput } from './handin.schema.ts';

export const MAX_IMPORT_ROWS = 50_000;

export interface ImportReport {
  accepted: number;
  rejected: { line: number; reason: string }[];
  duplicates: { line: number; email: string }[];
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
  return parsed.data;
}

/** A spreadsheet must never run what a signer typed: a cell starting with = + - @ (or a tab) is made text. */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * The climax of a campaign: paper signatures, the hand-in pack and exports, the delivery, the
 * decision-maker's response and the outcome.
 */
export class HandinService {
  /** Exports streaming now (see exportPlace). */
  private readonly exports: Slots;

  constructor(
    private readonly handin: HandinRepository,
    private readonly uploads: UploadsRepository,
    private readonly teams: TeamsRepository,
    private readonly audit: AuditRepository,
    private readonly petitions: PetitionsService,
    private readonly endorsements: EndorsementsService,
    private readonly broadcasts: BroadcastsService,
    private readonly clock: Clock,
    private readonly options: { siteName: string; timeZone: string; maxExportsAtOnce: number },
  ) {
    this.exports = new Slots(options.maxExportsAtOnce);
  }

  /** Exports (hand-in packs and signers' CSVs) streaming now in this process. */
  get exportsInProgress(): number {
    return this.exports.inUse;
  }

  async recordPaperBatch(user: User, slug: string, input: unknown): Promise<PaperBatch> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const data = parse(PaperBatchInput, input);
    const now = this.clock();
    const id = await this.handin.insertPaperBatch(
      { petition_id: petition.id, count: data.count, collected_on: data.collected_on, place: data.place, collected_by: data.collected_by, source: 'count', created_by: user.id, created_at: now.toISOString() },
      [],
      (batchId) => ({ audit: [{ actorId: user.id, petitionId: petition.id, action: 'paper.recorded', details: { batchId, count: data.count } }] }),
      now,
    );
    return (await this.handin.listPaperBatches(petition.id)).find((b) => b.id === id)!;
  }

  /**
   * Imports names and postcodes collected on paper from a CSV (columns: name, postcode, and
   * optionally email and country). Each row is checked; bad rows are reported, not imported;
   * rows whose email already signed online are flagged and not counted twice.
   */
  async importPaperCsv(user: User, slug: string, csv: string, details: unknown): Promise<ImportReport> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const meta = parse(PaperImportDetails, details);
    let records: Record<string, string>[];
    try {
      records = parseCsv(csv, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, relax_column_count: true });
    } catch (err) {
      throw new AppError('validation_failed', `The file is not a readable CSV: ${(err as Error).message}`, { field: 'file' });
    }
    if (records.length === 0) throw new AppError('validation_failed', 'The file has no rows under its header line', { field: 'file' });
    if (!('name' in records[0]!)) throw new AppError('validation_failed', 'The first line must name the columns: name, postcode (and optionally email, country)', { field: 'file' });
    if (records.length > MAX_IMPORT_ROWS) throw new AppError('validation_failed', `Import at most ${MAX_IMPORT_ROWS.toLocaleString('en-GB')} rows at a time`, { field: 'file' });

    const report: ImportReport = { accepted: 0, rejected: [], duplicates: [] };
    const emails = records.map((r) => (r.email ?? '').trim().toLowerCase()).filter(Boolean);
    const online = await this.handin.onlineEmails(petition.id, emails);
    const names: { name: string; postcode: string | null; country: string }[] = [];
    records.forEach((record, index) => {
      const line = index + 2;
      const row = PaperRow.safeParse(record);
      if (!row.success) return void report.rejected.push({ line, reason: 'The name is missing or too long' });
      const country = (row.data.country ?? 'GB').trim().toUpperCase() || 'GB';
      if (!isCountryCode(country)) return void report.rejected.push({ line, reason: `Unknown country “${row.data.country}”` });
      let postcode: string | null = null;
      if (country === 'GB') {
        postcode = normaliseUkPostcode(row.data.postcode ?? '');
        if (!postcode) return void report.rejected.push({ line, reason: `Not a valid UK postcode: “${row.data.postcode ?? ''}”` });
      }
      const email = (row.data.email ?? '').trim().toLowerCase();
      if (email && online.has(email)) return void report.duplicates.push({ line, email });
      names.push({ name: row.data.name, postcode, country });
    });
    report.accepted = names.length;
    if (names.length > 0) {
      const now = this.clock();
      await this.handin.insertPaperBatch(
        { petition_id: petition.id, count: names.length, collected_on: meta.collected_on, place: meta.place, collected_by: meta.collected_by, source: 'import', created_by: user.id, created_at: now.toISOString() },
        names,
        (batchId) => ({ audit: [{ actorId: user.id, petitionId: petition.id, action: 'paper.imported', details: { batchId, accepted: names.length, rejected: report.rejected.length, duplicates: report.duplicates.length } }] }),
        now,
      );
    }
    return report;
  }

  async listPaper(user: User, slug: string): Promise<{ petition: Petition; batches: PaperBatch[] }> {
    const petition = await this.allowed(user, slug, 'export_summary');
    return { petition, batches: await this.handin.listPaperBatches(petition.id) };
  }

  async deletePaperBatch(user: User, slug: string, id: number): Promise<void> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const removed = await this.handin.deletePaperBatch(petition.id, id, { audit: [{ actorId: user.id, petitionId: petition.id, action: 'paper.removed', details: { batchId: id } }] }, this.clock());
    if (!removed) throw new AppError('not_found', 'There is no such batch of paper signatures.');
  }

  /** Records the hand-in: the petition becomes `delivered` (an open one closes then). */
  async recordDelivery(user: User, slug: string, input: unknown): Promise<Petition> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const data = parse(DeliveryInput, input);
    if (petition.state !== 'open' && petition.state !== 'closed') {
      throw new AppError('invalid_state_transition', petition.state === 'delivered' ? 'The hand-in is already recorded.' : `A petition that is ${petition.state} cannot be handed in.`);
    }
    const deliveredAt = /^\d{4}-\d{2}-\d{2}$/.test(data.delivered_at)
      ? endOfDayInZone(data.delivered_at, this.options.timeZone).replace(/T23:59:59.999Z$/, 'T12:00:00.000Z')
      : new Date(data.delivered_at).toISOString();
    const now = this.clock();
    const recorded = await this.handin.recordDelivery(
      petition.id,
      ['open', 'closed'],
      { delivered_at: deliveredAt, place: data.place, recipient_name: data.recipient_name, recipient_body: data.recipient_body, presented_by: data.presented_by, notes: data.notes, created_by: user.id, created_at: now.toISOString() },
      {
        audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.delivered', details: { place: data.place, to: data.recipient_name } }],
        jobs: [webhookEvent('petition.delivered', petition.id, { delivered_at: deliveredAt, place: data.place, recipient: data.recipient_name })],
      },
      now,
    );
    if (!recorded) throw new AppError('invalid_state_transition', 'The petition changed meanwhile; reload and try again.');
    return (await this.petitions.getById(petition.id))!;
  }

  async addDeliveryPhoto(user: User, slug: string, image: Buffer, caption: string | null): Promise<void> {
    const petition = await this.allowed(user, slug, 'record_handin');
    if (!(await this.handin.findDelivery(petition.id))) throw new AppError('invalid_state_transition', 'Record the hand-in first, then add its photos.');
    const uploadId = await this.uploads.store({ petitionId: petition.id, contentType: checkImage(image, 'photo'), bytes: image, createdBy: user.id }, this.clock());
    await this.handin.addDeliveryPhoto(petition.id, uploadId, caption ? caption.slice(0, 200) : null, this.clock());
  }

  /** Records the decision-maker's response; optionally emails it to signers who opted in. */
  async recordResponse(user: User, slug: string, input: unknown): Promise<Response> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const data = parse(ResponseInput, input);
    this.assertPublished(petition);
    const now = this.clock();
    await this.handin.saveResponse(
      { petition_id: petition.id, responder: data.responder, responded_on: data.responded_on, text: data.text, document_url: data.document_url, created_by: user.id, created_at: now.toISOString() },
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.response_recorded', details: { responder: data.responder } }] },
      now,
    );
    if (data.notify_signers) {
      const body = `${data.responder} has responded to the petition:\n\n${data.text}${data.document_url ? `\n\nThe full response: ${data.document_url}` : ''}`;
      await this.broadcasts.start({ petition, kind: 'response', updateId: null, subject: `The response: ${petition.title}`, body, userId: user.id });
    }
    return (await this.handin.findResponse(petition.id))!;
  }

  /** Records the outcome (won, partly won, lost, pending); optionally tells signers who opted in. */
  async recordOutcome(user: User, slug: string, input: unknown): Promise<Petition> {
    const petition = await this.allowed(user, slug, 'record_handin');
    const data = parse(OutcomeInput, input);
    this.assertPublished(petition);
    await this.handin.saveOutcome(
      petition.id,
      data.outcome,
      data.summary,
      {
        audit: [{ actorId: user.id, petitionId: petition.id, action: 'petition.outcome_recorded', details: { outcome: data.outcome } }],
        jobs: [webhookEvent('outcome.recorded', petition.id, { outcome: data.outcome, summary: data.summary })],
      },
      this.clock(),
    );
    if (data.notify_signers) {
      await this.broadcasts.start({
        petition,
        kind: 'outcome',
        updateId: null,
        subject: `${OUTCOME_LABELS[data.outcome]}: ${petition.title}`,
        body: data.summary,
        userId: user.id,
      });
    }
    return (await this.petitions.getById(petition.id))!;
  }

  /** What the public page shows of the hand-in and the response. */
  async publicRecord(petition: Petition): Promise<{ delivery: Delivery | null; response: Response | null }> {
    const [delivery, response] = await Promise.all([this.handin.findDelivery(petition.id), this.handin.findResponse(petition.id)]);
    return { delivery, response };
  }

  /** The print-ready hand-in pack, streamed; the download is in the audit log. */
  async handinPack(user: User, slug: string): Promise<{ petition: Petition; pdf: PDFKit.PDFDocument }> {
    const petition = await this.allowed(user, slug, 'export');
    const release = this.exportPlace();
    try {
      const owners = (await this.teams.listMembers(petition.id)).filter((m) => m.role === 'owner').map((m) => m.name);
      const endorsements = await this.endorsements.publicList(petition);
      await this.audit.append({ actorId: user.id, petitionId: petition.id, action: 'export.handin_pdf' }, this.clock());
      // pdfkit (about 28 MB) loads on the first pack asked for, not in every process.
      const { newHandinDocument, writeHandinPack } = await import('./handin.pdf.ts');
      const pdf = newHandinDocument(petition, this.options.siteName);
      const input = { petition, startedBy: owners, endorsements, url: this.petitions.urlFor(petition), siteName: this.options.siteName, timeZone: this.options.timeZone, generatedAt: this.clock() };
      writeHandinPack(pdf, input, this.exportRows(petition.id, release, pdf)).catch((err: unknown) => pdf.destroy(err as Error));
      return { petition, pdf };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Signers' details as CSV (owners and editors only), streamed, with formulas neutralised; audited. */
  async signaturesCsv(user: User, slug: string): Promise<{ petition: Petition; csv: Readable }> {
    const petition = await this.allowed(user, slug, 'export');
    const release = this.exportPlace();
    try {
      await this.audit.append({ actorId: user.id, petitionId: petition.id, action: 'export.signatures_csv' }, this.clock());
      const csv = stringify({ header: true, columns: ['name', 'email', 'postcode', 'country', 'signed_at', 'confirmed_at', 'contact_opt_in'] });
      const rows = this.exportRows(petition.id, release, csv);
      const records = Readable.from(
        (async function* () {
          // Rows come a thousand at a time: let other requests in every few milliseconds.
          const slice = new TimeSlice();
          for await (const r of rows) {
            yield [r.name, r.email, r.postcode ?? '', r.country, r.created_at, r.confirmed_at ?? '', r.contact_opt_in ? 'yes' : 'no'].map(neutraliseCell);
            const pause = slice.due();
            if (pause) await pause;
          }
        })(),
      );
      // Not records.pipe(csv): when the download is cancelled the server destroys csv, and only
      // pipeline passes that on to the rows, closing their cursor (which on PostgreSQL would
      // otherwise keep a pooled connection for good).
      pipeline(records, csv, () => {});
      return { petition, csv };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * A place for one export, or 503: each export holds, until its download ends, a stream of the
   * petition's signatures (on PostgreSQL a pooled connection, shared with every page of the site)
   * and, for the pack, a document in memory. A few at a time per process (MAX_EXPORTS_AT_ONCE)
   * keep slow downloads from taking the whole pool or the memory budget.
   */
  private exportPlace(): () => void {
    const release = this.exports.take();
    if (release) return release;
    const n = this.exports.size;
    throw new AppError('service_unavailable', `${n === 1 ? 'Another export of signatures is' : `${n} exports of signatures are`} being downloaded right now. Please try again in a minute.`, { retryAfterSeconds: 30 });
  }

  /**
   * The petition's signatures for one export, giving its place back when the reading ends
   * (finished, failed, or closed because the download was cancelled), or when `download` ends
   * before reading began.
   */
  private exportRows(petitionId: number, release: () => void, download: NodeJS.ReadableStream): AsyncIterable<SignatureForExport> {
    const handin = this.handin;
    let began = false;
    finished(download, () => {
      if (!began) release();
    });
    return (async function* () {
      began = true;
      try {
        yield* handin.streamSignatures(petitionId);
      } finally {
        release();
      }
    })();
  }

  /** Counts by area, with no personal data: for every member of the team, viewers included. */
  async summaryCsv(user: User, slug: string): Promise<{ petition: Petition; csv: string }> {
    const petition = await this.allowed(user, slug, 'export_summary');
    const byArea = new Map<string, number>();
    for (const r of await this.handin.countsByArea(petition.id)) {
      const area = areaOf(r.country, r.postcode);
      byArea.set(area, (byArea.get(area) ?? 0) + r.n);
    }
    const lines = [['area', 'signatures'], ...[...byArea].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([a, c]) => [neutraliseCell(a), String(c)])];
    lines.push(['online total', String(petition.signatureCount)], ['paper total', String(petition.paperSignatureCount)], ['total', String(petition.signatureCount + petition.paperSignatureCount)]);
    return { petition, csv: lines.map((l) => l.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n' };
  }

  private assertPublished(petition: Petition): void {
    if (!['open', 'closed', 'delivered'].includes(petition.state)) {
      throw new AppError('invalid_state_transition', 'Responses and outcomes can be recorded once the petition is published.');
    }
  }

  private allowed(user: User, slug: string, action: PetitionAction): Promise<Petition> {
    return this.petitions.requireAction(user, slug, action);
  }
}
