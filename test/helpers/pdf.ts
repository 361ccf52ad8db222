import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * The text of each page of a PDF (or of its last page only), one line per printed line, spaces
 * folded (pdf.js, as a reader would extract it).
 */
export async function pdfPages(bytes: Buffer, options: { lastOnly?: boolean } = {}): Promise<string[]> {
  const doc = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let i = options.lastOnly ? doc.numPages : 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    let text = '';
    let lastY: number | null = null;
    for (const item of content.items as { str: string; transform: number[] }[]) {
      const y = item.transform[5]!;
      if (lastY !== null && Math.abs(y - lastY) > 2) text += '\n';
      else if (lastY !== null) text += ' ';
      text += item.str;
      lastY = y;
    }
    // Runs of spaces between text pieces are layout, not content.
    pages.push(text.split('\n').map((line) => line.replace(/\s+/g, ' ').trim()).join('\n'));
  }
  await doc.destroy();
  return pages;
}
