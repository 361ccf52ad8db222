import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { areaOf } from '../../lib/areas.ts';
import { TimeSlice } from '../../lib/time-slice.ts';
import type { Endorsement } from '../endorsements/endorsements.repository.ts';
import type { Petition } from '../petitions/petitions.service.ts';
import type { SignatureForExport } from './handin.repository.ts';

const require = createRequire(import.meta.url);
// DejaVu covers Latin, Greek and Cyrillic with every accent: "Zoë Ó Súilleabháin", "Łukasz".
const FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FONT_BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

export interface HandinPackInput {
  petition: Petition;
  startedBy: string[];
  endorsements: Endorsement[];
  url: string;
  siteName: string;
  timeZone: string;
  generatedAt: Date;
}

const MARGIN = 50;
const ROW = 15;
/** How much of the pack may wait for a slow reader before writing pauses. */
const UNREAD_LIMIT = 1024 * 1024;

function day(iso: string | null, timeZone: string): string {
  return iso ? new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone }).format(new Date(iso)) : '—';
}

const n = (value: number) => value.toLocaleString('en-GB');

/**
 * Writes the print-ready hand-in pack: a cover page with the figures and a QR code, a page of
 * endorsements, then every confirmed signature, numbered, grouped and subtotalled by area. Names
 * the signer kept private show as "Name withheld"; emails and full postcodes never appear. Rows
 * are read as a stream and pages are flushed as they fill, so memory stays flat.
 */
export async function writeHandinPack(doc: PDFKit.PDFDocument, input: HandinPackInput, rows: AsyncIterable<SignatureForExport>): Promise<void> {
  const { petition, timeZone } = input;
  releaseWrittenPages(doc);
  const readerCaughtUp = readerProgress(doc);
  doc.registerFont('Body', FONT);
  doc.registerFont('Bold', FONT_BOLD);
  let page = 1;
  const width = doc.page.width - MARGIN * 2;
  const footer = () => {
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('Body').fontSize(8).fillColor('#444444');
    doc.text(`${petition.title} — ${n(petition.signatureCount)} online signatures — ${input.siteName} — page ${page}`, MARGIN, doc.page.height - 35, { width, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
    doc.fillColor('#000000');
    doc.x = MARGIN;
    doc.y = MARGIN;
  };
  doc.on('pageAdded', () => {
    page++;
    forgetTextLayouts(doc);
    footer();
  });
  footer();

  // Cover. Each font's first use parses it (15–40 ms), as the QR code's image takes a moment
  // to encode: other requests go between them, not after all three.
  doc.font('Bold').fontSize(22).text(petition.title, MARGIN, MARGIN, { width });
  await nextTurn();
  doc.moveDown(0.5);
  const target = [petition.target.name, petition.target.role, petition.target.organisation].filter(Boolean).join(', ');
  doc.font('Body').fontSize(12).text(`A petition to ${target}`);
  await nextTurn();
  doc.moveDown();
  doc.font('Bold').fontSize(12).text('We ask');
  doc.font('Body').fontSize(12).text(petition.action, { width });
  doc.moveDown();
  const figures: [string, string][] = [
    ['Started by', input.startedBy.join(', ') || '—'],
    ['Opened', day(petition.openedAt, timeZone)],
    ['Closed', petition.state === 'open' ? 'still open' : day(petition.closedAt ?? petition.deadline, timeZone)],
    ['Signatures confirmed online', n(petition.signatureCount)],
    ['Signatures on paper', n(petition.paperSignatureCount)],
    ['Total signatures', n(petition.signatureCount + petition.paperSignatureCount)],
  ];
  for (const [label, value] of figures) {
    doc.font('Bold').fontSize(12).text(`${label}: `, { continued: true }).font('Body').text(value);
  }
  doc.moveDown();
  doc.font('Body').fontSize(10).text('Every online signature was confirmed by its signer from their email address. Verify the count at:', { width });
  doc.font('Bold').fontSize(10).text(input.url, { width, link: input.url, underline: true });
  const qr = await qrImage(input.url);
  await nextTurn();
  doc.image(qr, MARGIN, doc.y + 10, { width: 130 });
  doc.y += 150;
  doc.font('Body').fontSize(9).fillColor('#444444').text(`Prepared on ${day(input.generatedAt.toISOString(), timeZone)} with ${input.siteName}.`, MARGIN);
  doc.fillColor('#000000');
  if (petition.paperSignatureCount > 0) {
    doc.text(`The ${n(petition.paperSignatureCount)} paper signatures are handed in on their original sheets.`);
  }

  // Endorsements
  if (input.endorsements.length > 0) {
    doc.addPage();
    doc.font('Bold').fontSize(16).text('Supported by');
    doc.moveDown(0.5);
    for (const e of input.endorsements) {
      doc.font('Bold').fontSize(11).text(e.name + (e.verified ? ' (verified)' : ''), { width });
      const role = [e.role, e.organisation].filter(Boolean).join(', ');
      if (role) doc.font('Body').fontSize(10).text(role, { width });
      if (e.quote) doc.font('Body').fontSize(10).text(`“${e.quote}”`, { width });
      doc.moveDown(0.5);
    }
  }

  // Signatures
  doc.addPage();
  doc.font('Bold').fontSize(16).text('Signatures confirmed online');
  doc.moveDown(0.5);
  const columns = { number: MARGIN, name: MARGIN + 62, area: MARGIN + 360 };
  // One line of a column. Text that fits is written as it is, without pdfkit's line wrapper
  // (most of the time a row took); longer text is cut short with an ellipsis, never wrapped onto
  // the rows below.
  const cell = (text: string, x: number, y: number, columnWidth: number) => {
    if (doc.widthOfString(text) <= columnWidth) doc.text(text, x, y, { lineBreak: false });
    else doc.text(text, x, y, { width: columnWidth, height: ROW, ellipsis: true });
  };
  const line = (cells: [string, string, string], font: 'Body' | 'Bold') => {
    if (doc.y + ROW > doc.page.height - MARGIN - 20) doc.addPage();
    const y = doc.y;
    doc.font(font).fontSize(10);
    // A row number fits its column up to 99,999,999 (57 points wide in DejaVu Sans at 10 points).
    doc.text(cells[0], columns.number, y, { lineBreak: false });
    cell(cells[1], columns.name, y, 290);
    cell(cells[2], columns.area, y, width - 360);
    doc.x = MARGIN;
    doc.y = y + ROW;
  };
  line(['No.', 'Name', 'Area'], 'Bold');
  let number = 0;
  const slice = new TimeSlice();
  let area: string | null = null;
  let subtotal = 0;
  const closeArea = () => {
    if (area !== null) {
      line(['', `Subtotal for ${area}`, n(subtotal)], 'Bold');
      doc.y += 4;
    }
  };
  for await (const row of rows) {
    // A cancelled download: stop reading (leaving the loop closes the rows' stream).
    if (doc.destroyed) return;
    const rowArea = areaOf(row.country, row.postcode);
    if (rowArea !== area) {
      closeArea();
      area = rowArea;
      subtotal = 0;
    }
    number++;
    subtotal++;
    line([String(number), row.public_name ? row.name : 'Name withheld', rowArea], 'Body');
    // The pack is streamed, not held: past a megabyte the reader has not taken (a slow
    // connection), wait for it; otherwise let other requests in every few milliseconds.
    if (number % 200 === 0 && doc.readableLength > UNREAD_LIMIT) {
      await readerCaughtUp();
      slice.restart();
    } else {
      const pause = slice.due();
      if (pause) await pause;
    }
  }
  if (doc.destroyed) return;
  closeArea();
  doc.moveDown();
  line(['', 'Total signatures confirmed online', n(number)], 'Bold');
  doc.end();
}

/** The cover's QR code images by address: a petition's pack is downloaded again and again. */
const qrImages = new Map<string, Promise<Buffer>>();

/** The QR code of an address as a PNG (kept for the next pack; at most a hundred addresses). */
function qrImage(url: string): Promise<Buffer> {
  let image = qrImages.get(url);
  if (!image) {
    if (qrImages.size >= 100) qrImages.clear();
    image = QRCode.toBuffer(url, { type: 'png', width: 300, margin: 1 });
    image.catch(() => qrImages.delete(url));
    qrImages.set(url, image);
  }
  return image;
}

/**
 * pdfkit caches the layout of every string it sets, for speed; in a pack where every row is new,
 * that cache would grow with the petition (about 1 KB a row). Clearing it each page keeps memory
 * flat and keeps the speed-up for what repeats on a page. (It reaches into pdfkit's font objects;
 * the option fontLayoutCache: false is the documented alternative, but 3 times slower here.)
 */
function forgetTextLayouts(doc: PDFKit.PDFDocument): void {
  const families = (doc as unknown as { _fontFamilies?: Record<string, { layoutCache?: object }> })._fontFamilies ?? {};
  for (const font of Object.values(families)) if (font.layoutCache) font.layoutCache = Object.create(null);
}

/**
 * pdfkit pushes what it writes without waiting for the reader (its `_read` does nothing), so a
 * pack for a slow connection would pile up in memory. Returns a function that resolves once the
 * reader asks for more, or the document is closed (a cancelled download).
 */
function readerProgress(doc: PDFKit.PDFDocument): () => Promise<void> {
  let wake: (() => void) | null = null;
  const resume = () => {
    wake?.();
    wake = null;
  };
  (doc as unknown as { _read: () => void })._read = resume;
  doc.once('close', resume);
  return () => (doc.destroyed ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve)));
}

/**
 * pdfkit keeps every page it has written, with its contents (dictionary, resources and content
 * entries: ~2 KB a page, ~40 MB a million signatures), for the life of the document. Once a page
 * is written only its object's number is needed (the page tree lists pages by it), so its
 * contents are dropped as the next page starts. (Like forgetTextLayouts, this reaches into pdfkit.)
 */
function releaseWrittenPages(doc: PDFKit.PDFDocument): void {
  type Page = { dictionary: { data: object } };
  let writing = doc.page as unknown as Page;
  doc.on('pageAdded', () => {
    // pdfkit wrote the previous page out before adding this one.
    writing.dictionary.data = {};
    writing = doc.page as unknown as Page;
  });
}

/** A new A4 document for the pack. */
export function newHandinDocument(petition: Petition, siteName: string): PDFKit.PDFDocument {
  return new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: `Hand-in pack: ${petition.title}`, Author: siteName, Subject: `Petition to ${petition.target.name}` },
  });
}
