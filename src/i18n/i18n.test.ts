import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { describeEachDatabase } from '../../test/helpers/db.ts';
import { FormSession, signedInSession, textOf } from '../../test/helpers/browser-session.ts';
import { createPetition, createUser, seedSignatures, signerInput } from '../../test/helpers/factories.ts';
import { confirmationPath, mailsTo } from '../../test/helpers/mail.ts';
import { formatDate, formatNumber } from '../views/components.tsx';
import { parseSignInput } from '../modules/signatures/signatures.schema.ts';
import { CreatePetitionInput } from '../modules/petitions/petitions.schema.ts';
import { fieldErrorsFrom } from '../modules/petitions/petitions.service.ts';
import { AppError } from '../lib/errors.ts';
import { LANGUAGES, languageFromAcceptLanguage, loadCatalog, loadMessageCatalog, messageTemplate, t, translateMessage, withLanguage, type Language } from './i18n.ts';

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

/** Every key of a nested catalog as a dotted path, with its text. */
function flatten(catalog: Record<string, unknown>, prefix = ''): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object') for (const [k, v] of flatten(value as Record<string, unknown>, path)) keys.set(k, v);
    else keys.set(path, String(value));
  }
  return keys;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('the English and Welsh catalogs', () => {
  const catalogs = Object.fromEntries(LANGUAGES.map((l) => [l, flatten(loadCatalog(l))])) as Record<Language, Map<string, string>>;
  const baseKeys = (l: Language) => new Set([...catalogs[l].keys()].map((k) => k.replace(PLURAL_SUFFIX, '')));

  it('have the same keys: a key one language has and the other misses fails here', () => {
    for (const [a, b] of [['en', 'cy'], ['cy', 'en']] as const) {
      const missing = [...baseKeys(a)].filter((k) => !baseKeys(b).has(k));
      assert.deepEqual(missing, [], `in ${a} but not in ${b}`);
    }
    assert.ok(baseKeys('en').size > 300, 'the catalogs cover the site');
  });

  it('give every plural form each language needs (Welsh has six)', () => {
    for (const language of LANGUAGES) {
      const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      const plurals = new Set([...catalogs[language].keys()].filter((k) => PLURAL_SUFFIX.test(k)).map((k) => k.replace(PLURAL_SUFFIX, '')));
      for (const base of plurals) {
        for (const category of needed) assert.ok(catalogs[language].has(`${base}_${category}`), `${language}: ${base}_${category}`);
      }
    }
  });

  it('use the same placeholders in both languages, and no empty text', () => {
    for (const [key, english] of catalogs.en) {
      const base = key.replace(PLURAL_SUFFIX, '');
      const welsh = catalogs.cy.get(key) ?? catalogs.cy.get(`${base}_other`);
      assert.ok(english.trim() && welsh?.trim(), key);
      assert.deepEqual(placeholders(welsh!).filter((p) => p !== 'count'), placeholders(english).filter((p) => p !== 'count'), key);
    }
  });

  it('translate error messages by their English template, numbers kept', () => {
    const messages = loadMessageCatalog('cy');
    for (const [english, welsh] of Object.entries(messages)) {
      assert.deepEqual(placeholders(welsh), placeholders(english), english);
      assert.notEqual(welsh, english);
    }
    assert.deepEqual(messageTemplate('Use at most 10,000 characters'), { template: 'Use at most {{0}} characters', values: { 0: '10,000' } });
    withLanguage('cy', () => {
      assert.equal(translateMessage('Use at most 254 characters'), 'Defnyddiwch 254 nod ar y mwyaf');
      assert.equal(translateMessage('A message nobody translated'), 'A message nobody translated');
    });
    withLanguage('en', () => assert.equal(translateMessage('Enter your name'), 'Enter your name', 'English stays as written'));
  });

  it('have Welsh for every message the public forms can give', () => {
    const produced = new Set<string>();
    const collect = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        if (err instanceof AppError) for (const m of Object.values(err.fields)) produced.add(m);
      }
    };
    for (const input of [{}, { name: ' ', email: 'x', country: 'ZZ' }, { name: 'A', email: 'a@b.c'.repeat(60), country: 'GB' }, { name: 'A', email: 'a@example.org', country: 'GB', postcode: 'nowhere', support_token: 'x'.repeat(201), challenge_answer: 'x'.repeat(41) }]) {
      collect(() => parseSignInput(input));
    }
    for (const input of [{}, { title: 'short', action: 'x', background: 'y', target: {}, goal: 0, deadline: 'soon', language: 'fr', translation: { title: 'x' } }, { title: 'T'.repeat(200), target: { name: 'x' }, goal: 1e12 }]) {
      const parsed = CreatePetitionInput.safeParse(input);
      if (!parsed.success) for (const m of Object.values(fieldErrorsFrom(parsed.error.issues))) produced.add(m);
    }
    assert.ok(produced.size >= 15, `exercised ${produced.size} messages`);
    withLanguage('cy', () => {
      for (const message of produced) assert.notEqual(translateMessage(message), message, `no Welsh for “${message}”`);
    });
  });
});

describe('choosing the language', () => {
  it('reads Accept-Language by language, ignoring regions and order of mention', () => {
    assert.equal(languageFromAcceptLanguage('cy-GB,cy;q=0.9,en-GB;q=0.8'), 'cy');
    assert.equal(languageFromAcceptLanguage('en-US,en;q=0.9'), 'en');
    assert.equal(languageFromAcceptLanguage('fr-FR,cy;q=0.5,en;q=0.4'), 'cy');
    assert.equal(languageFromAcceptLanguage('fr-FR'), null);
    assert.equal(languageFromAcceptLanguage(undefined), null);
  });

  it('formats dates, numbers and plurals per locale', () => {
    withLanguage('cy', () => {
      assert.equal(formatDate('2026-11-15T12:00:00Z', 'Europe/London'), '15 Tachwedd 2026');
      assert.equal(formatNumber(1804), '1,804');
      assert.equal(t('progress.signature_word', { count: 2 }), 'lofnod');
      assert.equal(t('petition.days_left', { count: 3, days: '3' }), '3 diwrnod ar ôl');
    });
    withLanguage('en', () => {
      assert.equal(formatDate('2026-11-15T12:00:00Z', 'Europe/London'), '15 November 2026');
      assert.equal(t('progress.signature_word', { count: 1 }), 'signature');
    });
    // Texts with values are kept by key and values, per language: each asked twice, in turn.
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(
        withLanguage('en', () => [1, 2, 1].map((count) => t('progress.signature_word', { count }))),
        ['signature', 'signatures', 'signature'],
      );
      assert.equal(withLanguage('cy', () => t('petition.days_left', { count: 3, days: '3' })), '3 diwrnod ar ôl');
      assert.equal(withLanguage('en', () => t('petition.days_left', { count: 3, days: '3' })), '3 days left');
      assert.equal(withLanguage('en', () => t('petition.days_left', { count: 3, days: '33' })), '33 days left', 'every value is part of the key');
    }
    assert.throws(() => t('progress.signature_word'), /outside withLanguage/, 'text needs a language in scope (under the test runner)');
    assert.throws(() => withLanguage('en', async () => t('progress.signature_word')), /synchronous/);
  });
});

describeEachDatabase('the site in Welsh', (kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(kind);
  });
  after(() => t.close());

  const welshPetition = () => createPetition(t.ctx, { input: welshInput });
  const welshInput = {
        title: 'Cadwch yr uned masnachu pobl ar agor',
        action: 'Peidiwch â chau uned arbenigol masnachu pobl yr heddlu.',
        background: 'Mae’r uned wedi helpu i garcharu masnachwyr.',
        target: { name: 'Syr Ian Blair', role: 'Comisiynydd', organisation: 'Heddlu Metropolitan' },
        language: 'cy',
        translation: {
          title: 'Keep the human trafficking unit open',
          action: 'Do not close the specialist trafficking unit of the police.',
          background: 'The unit has helped jail traffickers.',
        },
  };

  it('follows the language switch, remembers it, and says which language a page is in', async () => {
    const browser = new FormSession(t.app);
    const english = await browser.get('/');
    assert.match(english.body, /<html lang="en-GB">/);
    assert.match(english.body, /<a href="\/\?lang=cy" lang="cy" hreflang="cy">Cymraeg<\/a>/);
    assert.match(english.body, /<link rel="alternate" hreflang="cy" href="\/\?lang=cy"\/>/);
    const switched = await browser.get('/?lang=cy');
    assert.match(switched.body, /<html lang="cy">/);
    assert.match(String(switched.headers['set-cookie']), /undersign_lang=cy/);
    assert.equal(switched.headers['content-language'], 'cy');
    assert.match(String(switched.headers.vary), /Accept-Language/);
    // The cookie carries the choice to the next page, whatever the browser asks for.
    const next = await t.app.inject({ method: 'GET', url: '/petitions', headers: { cookie: 'undersign_lang=cy', 'accept-language': 'en' } });
    assert.match(textOf(next.body), /Deisebau ar agor/);
    assert.match(next.body, /<a href="\/petitions\?lang=en" lang="en" hreflang="en">English<\/a>/);
  });

  it('opens a Welsh petition in Welsh, and in English for a browser asking for it when translated', async () => {
    const { petition } = await welshPetition();
    const url = `/petitions/${petition.slug}`;
    const plain = await t.app.inject({ method: 'GET', url });
    assert.match(plain.body, /<html lang="cy">/, 'no preference: the petition’s own language');
    assert.match(plain.body, /<h1>Cadwch yr uned masnachu pobl ar agor<\/h1>/);
    const english = await t.app.inject({ method: 'GET', url, headers: { 'accept-language': 'en-GB,en' } });
    assert.match(english.body, /<h1>Keep the human trafficking unit open<\/h1>/);
    assert.match(textOf(english.body), /What we are asking for/);
    const api = await t.app.inject({ method: 'GET', url: `/api/v1/petitions/${petition.slug}` });
    assert.equal(api.json().data.language, 'cy');
    assert.equal(api.json().data.translation.language, 'en');
    assert.equal(api.json().data.translation.title, 'Keep the human trafficking unit open');
  });

  it('marks petition text in the other language, for screen readers', async () => {
    const { petition } = await createPetition(t.ctx);
    const res = await t.app.inject({ method: 'GET', url: `/petitions/${petition.slug}?lang=cy` });
    assert.match(res.body, /<html lang="cy">/);
    assert.match(res.body, /<h1 lang="en">/);
    assert.match(textOf(res.body), /Yr hyn rydym yn gofyn amdano/);
  });

  it('shows form errors in Welsh next to each field, and signs in Welsh with a Welsh email', async () => {
    const { petition } = await welshPetition();
    const browser = new FormSession(t.app);
    await browser.get(`/petitions/${petition.slug}?lang=cy`);
    const wrong = await browser.post(`/petitions/${petition.slug}/sign`, { name: '', email: 'nope', country: 'GB', postcode: '' });
    assert.equal(wrong.statusCode, 422);
    assert.match(wrong.body, /Mae problem/);
    assert.match(wrong.body, /id="f-name-error"[^>]*><span class="visually-hidden">Gwall:<\/span> Rhowch eich enw/);
    assert.match(wrong.body, /id="f-email-error"[^>]*>.*Rhowch gyfeiriad e-bost fel/);
    assert.match(wrong.body, /id="f-postcode-error"[^>]*>.*Rhowch eich cod post/);

    const signer = signerInput();
    const signed = await browser.post(`/petitions/${petition.slug}/sign`, { ...signer, public_name: 'on' });
    assert.equal(signed.statusCode, 303);
    const row = await t.ctx.db.kysely.selectFrom('signatures').select(['language']).where('email', '=', signer.email).executeTakeFirstOrThrow();
    assert.equal(row.language, 'cy');
    const [record] = await t.ctx.services.signatures.exportPersonalData(signer.email);
    assert.match(JSON.stringify(record!.consent), /Dangos fy enw yn gyhoeddus fel cefnogwr/, 'the consent is recorded in the words shown');
    await t.drainJobs();
    const [mail] = await mailsTo(t.ctx, signer.email);
    assert.match(mail!.subject, /^Cadarnhewch eich llofnod: Cadwch yr uned/);
    assert.match(mail!.text, /Annwyl Signer/);
    const link = confirmationPath(mail!.text);
    assert.match(link, /lang=cy/);
    // The link opens the thank-you page in the email's language, even in a new browser.
    const confirmed = await t.app.inject({ method: 'GET', url: link, headers: { 'accept-language': 'en' } });
    assert.match(textOf(confirmed.body), /Diolch am lofnodi/);
  });

  it('emails an English signer in English, whatever the petition’s language', async () => {
    const { petition } = await welshPetition();
    const browser = new FormSession(t.app);
    await browser.get(`/petitions/${petition.slug}?lang=en`);
    const signer = signerInput();
    assert.equal((await browser.post(`/petitions/${petition.slug}/sign`, signer)).statusCode, 303);
    await t.drainJobs();
    const [mail] = await mailsTo(t.ctx, signer.email);
    assert.match(mail!.subject, /^Please confirm your signature: Keep the human trafficking unit open/);
    assert.doesNotMatch(confirmationPath(mail!.text), /lang=/);
  });

  it('writes to campaigners in their language, and to each signer in theirs', async () => {
    // A campaigner who signs up in Welsh gets the confirmation in Welsh.
    const browser = new FormSession(t.app);
    await browser.get('/signup?lang=cy');
    const email = 'ymgyrchydd@example.org';
    assert.equal((await browser.post('/signup', { name: 'Ffion', email, password: 'correct horse battery staple' })).statusCode, 200);
    await t.drainJobs();
    const [welcome] = await mailsTo(t.ctx, email);
    assert.match(welcome!.subject, /^Cadarnhewch eich cyfeiriad e-bost/);
    assert.match(welcome!.text, /lang=cy/);

    // An update goes to every signer with the campaign's words as written and the rest in the signer's language.
    const { petition, owner } = await welshPetition();
    const [welshSigner] = await seedSignatures(t.ctx, petition.id, 1, { language: 'cy' });
    const [englishSigner] = await seedSignatures(t.ctx, petition.id, 1, { language: 'en' });
    await t.ctx.services.updates.post(owner, petition.slug, { title: 'Newyddion da', body: 'Mae’r uned yn aros ar agor.', email_signers: true });
    await t.drainJobs();
    const [cy] = await mailsTo(t.ctx, welshSigner!);
    assert.match(cy!.text, /^Annwyl /);
    assert.match(cy!.text, /Mae’r uned yn aros ar agor\./);
    assert.match(cy!.text, /Dad-danysgrifio gydag un clic: \S+\?lang=cy/);
    const [en] = await mailsTo(t.ctx, englishSigner!);
    assert.match(en!.text, /^Dear /);
    assert.match(en!.text, /Unsubscribe with one click/);
  });

  it('takes a petition’s language and translation through the web form', async () => {
    const owner = await createUser(t.ctx);
    const { petition } = await createPetition(t.ctx, { owner, open: false });
    const session = await signedInSession(t.app, owner.email);
    const form = await session.get(`/petitions/${petition.slug}/edit`);
    assert.match(form.body, /name="translation_title"/);
    assert.match(form.body, /<select id="f-language" name="language"/);
    const text = { title: petition.title, action: petition.action, background: petition.background, target_name: petition.target.name, language: 'en', translation_title: 'Cadwch yr uned ar agor' };
    const partial = await session.post(`/petitions/${petition.slug}/edit`, text);
    assert.equal(partial.statusCode, 422, 'a translation needs all three parts');
    assert.match(partial.body, /id="f-translation_action-error"/);
    const saved = await session.post(`/petitions/${petition.slug}/edit`, {
      ...text,
      translation_action: 'Peidiwch â chau’r uned arbenigol.',
      translation_background: 'Mae’r uned wedi helpu i garcharu masnachwyr.',
    });
    assert.equal(saved.statusCode, 303);
    const reloaded = await t.ctx.services.petitions.getAnyBySlug(petition.slug);
    assert.deepEqual(reloaded.translation, {
      language: 'cy',
      title: 'Cadwch yr uned ar agor',
      action: 'Peidiwch â chau’r uned arbenigol.',
      background: 'Mae’r uned wedi helpu i garcharu masnachwyr.',
    });
  });

  it('has no English left on the public pages in Welsh', async () => {
    // A site of its own, so every petition on it is Welsh (English user content would trip the check).
    const own = await createTestApp(kind);
    const { petition, owner } = await createPetition(own.ctx, { input: welshInput });
    const slug = petition.slug;
    const update = await own.ctx.services.updates.post(owner, slug, { title: 'Newyddion da', body: 'Mae’r uned yn aros ar agor.' });
    const signer = new FormSession(own.app);
    await signer.get(`/petitions/${slug}`);
    await signer.post(`/petitions/${slug}/sign`, signerInput());
    await own.drainJobs();
    const [mail] = await mailsTo(own.ctx, (await own.ctx.db.kysely.selectFrom('signatures').select('email').executeTakeFirstOrThrow()).email);
    await own.app.inject({ method: 'GET', url: confirmationPath(mail!.text) });
    const pages = ['/', '/petitions', '/petitions?state=closed', `/petitions/${slug}`, `/petitions/${slug}/signed`, `/petitions/${slug}/stats`, `/petitions/${slug}/updates/${update.id}`, `/petitions/${slug}/embed`, '/privacy', '/login', '/signup', '/password/forgot', '/signatures/remove?token=nope', '/unsubscribe/nope', '/nowhere'];
    // Words that only appear in English sentences (user content here is all Welsh).
    const english = /\b(the|and|your|you|this|with|petitions?|signatures?|sign|please|page|email address)\b/i;
    for (const page of pages) {
      const res = await own.app.inject({ method: 'GET', url: page, headers: { cookie: 'undersign_lang=cy' } });
      const text = textOf(res.body.replace(/<option[^>]*>[^<]*<\/option>/g, '').replace(/<a [^>]*lang="en"[^>]*>English<\/a>/, ''));
      const found = english.exec(text.replace(/Undersign|https?:\/\/\S+|&lt;iframe.*?&lt;\/iframe&gt;|<iframe.*?<\/iframe>/g, ''));
      assert.equal(found, null, `${page}: English “${found?.[0]}” in …${found ? text.slice(Math.max(0, found.index - 60), found.index + 60) : ''}…`);
    }
    await own.close();
  });
});
