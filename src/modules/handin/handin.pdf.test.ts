import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pdfPages } from '../../../test/helpers/pdf.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { SignatureForExport } from './handin.repository.ts';
import { newHandinDocument, writeHandinPack } from './handin.pdf.ts';

const ROWS = 60_000;
const petition = { title: 'Keep the station open', action: 'Keep it open.', slug: 'station', target: { name: 'The Commissioner' }, state: 'open', openedAt: null, closedAt: null, deadline: null, signatureCount: ROWS, paperSignatureCount: 0 } as unknown as Petition;
const input = { petition, startedBy: ['Maya'], endorsements: [], url: 'https://undersign.example/petitions/station', siteName: 'Undersign', timeZone: 'Europe/London', generatedAt: new Date('2026-12-01T12:00:00Z') };

/** ROWS signers, counting how many were read and whether the reading was closed early. */
function signers() {
  const seen = { read: 0, closed: false };
  async function* rows(): AsyncGenerator<SignatureForExport> {
    try {
      for (let i = 1; i <= ROWS; i++) {
        seen.read = i;
        yield { id: i, name: `Signer ${i}`, email: `s${i}@example.net`, postcode: 'SW1A 1AA', country: 'GB', public_name: 1, contact_opt_in: 0, created_at: '', confirmed_at: null };
      }
    } finally {
      seen.closed = true;
    }
  }
  return { rows: rows(), seen };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hand-in pack streaming', () => {
  it('waits for a slow reader instead of holding the pack in memory, then finishes it', async () => {
    const doc = newHandinDocument(petition, 'Undersign');
    const { rows, seen } = signers();
    const writing = writeHandinPack(doc, input, rows);
    // Nobody reads: writing stops once about a megabyte waits (without a reader-paced writer it
    // would run to the end).
    for (let last = -1; seen.read !== last && seen.read < ROWS; ) {
      last = seen.read;
      await pause(300);
    }
    assert.ok(seen.read < ROWS * 0.8, `read ${seen.read} of ${ROWS} rows with nobody taking the pack`);
    assert.ok(doc.readableLength < 2 * 1024 * 1024, `${doc.readableLength} bytes waiting`);
    const chunks: Buffer[] = [];
    for await (const chunk of doc) chunks.push(chunk as Buffer);
    await writing;
    assert.equal(seen.read, ROWS);
    const [last] = await pdfPages(Buffer.concat(chunks), { lastOnly: true });
    assert.match(last!, /Signer 60000/);
    assert.match(last!, /Total signatures confirmed online 60,000/);
  });

  it('lets other requests in every few milliseconds while it writes, however long a row takes', async () => {
    const doc = newHandinDocument(petition, 'Undersign');
    doc.on('data', () => {});
    // 400 rows of half a millisecond each (a slow disk, a busy machine): 200 ms of work.
    async function* slowRows(): AsyncGenerator<SignatureForExport> {
      for (let i = 1; i <= 400; i++) {
        const until = performance.now() + 0.5;
        while (performance.now() < until);
        yield { id: i, name: `Signer ${i}`, email: '', postcode: 'SW1A 1AA', country: 'GB', public_name: 1, contact_opt_in: 0, created_at: '', confirmed_at: null };
      }
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await writeHandinPack(doc, input, slowRows());
    const took = performance.now() - started;
    clearInterval(timer);
    // Counting rows (a break every 2,000) it gave none in these 400: the timer waited for the end.
    assert.ok(ticks >= took / 40, `a timer ran ${ticks} times in ${Math.round(took)} ms of writing`);
  });

  it('stops reading signatures when the download is cancelled', async () => {
    const doc = newHandinDocument(petition, 'Undersign');
    const { rows, seen } = signers();
    const writing = writeHandinPack(doc, input, rows);
    await new Promise((resolve) => doc.once('data', resolve));
    doc.destroy();
    await writing;
    assert.ok(seen.closed, 'the rows were closed');
    assert.ok(seen.read < ROWS / 2, `read ${seen.read} of ${ROWS} rows after the download was cancelled`);
  });

  it('keeps every signer on one line: a name or area too long for its column is cut short, not wrapped over the rows below', async () => {
    const doc = newHandinDocument(petition, 'Undersign');
    const long = 'Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Senior, Third of His Name, of Bonaire';
    async function* rows(): AsyncGenerator<SignatureForExport> {
      yield { id: 1, name: long, email: 'h@example.net', postcode: null, country: 'BQ', public_name: 1, contact_opt_in: 0, created_at: '', confirmed_at: null };
      yield { id: 2, name: 'Ann Short', email: 'a@example.net', postcode: null, country: 'BQ', public_name: 1, contact_opt_in: 0, created_at: '', confirmed_at: null };
    }
    const writing = writeHandinPack(doc, { ...input, petition: { ...petition, signatureCount: 2 } }, rows());
    const chunks: Buffer[] = [];
    for await (const chunk of doc) chunks.push(chunk as Buffer);
    await writing;
    const [last] = await pdfPages(Buffer.concat(chunks), { lastOnly: true });
    const lines = last!.split('\n');
    const first = lines.findIndex((l) => l.startsWith('1 Hubert Blaine'));
    assert.match(lines[first]!, /^1 Hubert Blaine \S.*… Bonaire, Sint Eustatius…$/, last);
    assert.equal(lines[first + 1], '2 Ann Short Bonaire, Sint Eustatius…', last);
    assert.match(last!, /Subtotal for Bonaire, Sint Eustatius and Saba 2/);
  });
});
