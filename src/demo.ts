import type { Config } from './config.ts';
import { createContext } from './context.ts';
import type { Logger } from 'pino';

/** Generated names and London postcodes: real people in the story appear by role, never by name. */
const FIRST = ['Amira', 'Ben', 'Chloe', 'Dev', 'Ella', 'Femi', 'Grace', 'Hassan', 'Isla', 'Jon', 'Kofi', 'Lena', 'Marek', 'Nia', 'Owen', 'Priya', 'Rosa', 'Sam', 'Tomás', 'Zoë'];
const LAST = ['Adeyemi', 'Brennan', 'Chowdhury', 'Davies', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Iqbal', 'Jones', 'Kowalski', 'Lewis', 'Murphy', 'Nowak', 'O’Brien', 'Patel', 'Quinn', 'Rossi', 'Smith', 'Taylor'];
const POSTCODES = ['SW1A 1AA', 'SE1 7PB', 'E1 6AN', 'N1 9GU', 'W1A 1AA', 'EC1A 1BB', 'NW1 2DB', 'SE10 9NF', 'E14 5AB', 'SW9 8EJ', 'N16 8LF', 'W12 7RJ', 'SE15 4ST', 'E17 4PP', 'CR0 1XX', 'HA0 4HN'];

const DAY = 86_400_000;

/**
 * Loads the campaign of the story (`shared/story`) into an empty database: the petition to keep
 * the Met's specialist trafficking unit open, its team, endorsements, updates, 1,804 confirmed
 * signatures over a month, milestones, paper signatures, press, the hand-in at City Hall and the
 * Commissioner's response. Returns the sign-in details it created.
 */
export async function loadDemo(config: Config, log: Logger): Promise<{ slug: string; accounts: { email: string; password: string; role: string }[] }> {
  const start = Date.now() - 40 * DAY;
  let now = start;
  const ctx = createContext({ ...config, moderation: true }, { log, clock: () => new Date(now) });
  try {
    const existing = await ctx.db.kysely.selectFrom('petitions').select('id').limit(1).execute();
    if (existing.length) throw new Error('The database already has petitions: load the demo into an empty one (e.g. DATABASE_URL=sqlite://./data/demo.sqlite).');
    const password = 'demo password 1804';
    const { users, petitions, endorsements, updates, press, handin, milestones } = ctx.services;
    const admin = await users.createUser({ email: 'admin@demo.undersign', name: 'Site Moderator', password, role: 'admin' });
    const mep = await users.createUser({ email: 'mep@demo.undersign', name: 'The London MEP', password, role: 'campaigner' });

    const petition = await petitions.createPetition(mep, {
      title: 'Keep the Met’s specialist human trafficking unit open',
      action: 'We call on the Commissioner of the Metropolitan Police not to close the specialist human trafficking unit.',
      background:
        'The Metropolitan Police plans to close its specialist human trafficking unit. The decision will be taken by the Metropolitan Police Authority at its meeting between 16 and 18 November.\n\nThe unit has helped to jail traffickers and to protect their victims. Without it, fewer victims will come forward and fewer traffickers will be prosecuted.',
      target: { name: 'The Commissioner', role: 'Commissioner of Police of the Metropolis', organisation: 'Metropolitan Police' },
      deadline: new Date(start + 30 * DAY).toISOString(),
      goal: 1500,
      // Shown to visitors who choose Welsh: petitions can carry their text in both languages.
      translation: {
        title: 'Cadwch uned masnachu pobl arbenigol Heddlu’r Met ar agor',
        action: 'Galwn ar Gomisiynydd Heddlu Metropolitan i beidio â chau’r uned masnachu pobl arbenigol.',
        background:
          'Mae Heddlu Metropolitan yn bwriadu cau ei uned masnachu pobl arbenigol. Bydd Awdurdod Heddlu Metropolitan yn gwneud y penderfyniad yn ei gyfarfod rhwng 16 a 18 Tachwedd.\n\nMae’r uned wedi helpu i garcharu masnachwyr ac i amddiffyn eu dioddefwyr. Hebddi, bydd llai o ddioddefwyr yn dod ymlaen a llai o fasnachwyr yn cael eu herlyn.',
      },
    });
    await petitions.submitPetition(mep, petition.slug);
    now += 2 * 3600_000;
    await petitions.publishPetition(admin, petition.slug);

    // 1,804 signers who confirmed over the month, faster at first and again before the deadline.
    const opened = now;
    const rows = Array.from({ length: 1804 }, (_, i) => {
      const progress = i / 1804;
      const at = new Date(opened + Math.pow(progress, 0.8) * 29 * DAY + (i % 7) * 60_000).toISOString();
      const email = `signer${i + 1}@demo.undersign`;
      return {
        petition_id: petition.id,
        name: `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`,
        email,
        postcode: POSTCODES[(i * 13) % POSTCODES.length]!,
        country: i % 40 === 0 ? 'IE' : 'GB',
        public_name: i % 3 === 0 ? 0 : 1,
        contact_opt_in: 0,
        status: 'confirmed' as const,
        created_at: at,
        confirmed_at: at,
        confirmation_requested_at: at,
      };
    });
    for (const row of rows) if (row.country !== 'GB') row.postcode = null as unknown as string;
    await ctx.repositories.signatures.insertMany(rows);
    await ctx.repositories.stats.foldAll();

    const endorsers = [
      { kind: 'organisation', name: 'Public and Commercial Services Union', quote: 'Our members see every day what this unit achieves.' },
      { kind: 'organisation', name: 'Anti-Slavery International', quote: 'Specialist policing is what brings traffickers to justice.' },
      { kind: 'person', name: 'A Green Party London Assembly Member', role: 'London Assembly Member', quote: 'I have supported this campaign from the start.' },
      { kind: 'person', name: 'Fellow MEPs for London', role: 'Members of the European Parliament' },
      { kind: 'person', name: 'Local councillors', role: 'London borough councillors' },
    ];
    now = opened + 3 * DAY;
    for (const e of endorsers) await endorsements.add(mep, petition.slug, e);
    const [union] = await endorsements.publicList(petition);
    if (union) await endorsements.setVerified(admin, petition.slug, union.id, true);

    now = opened + 10 * DAY;
    await updates.post(mep, petition.slug, {
      title: 'A trafficker jailed for 16 years',
      body: 'Last week a trafficker was jailed for **16 years** thanks to the work of the unit. Its detective inspector told us why specialist officers matter: victims trust people who understand what they have been through.',
    });
    now = opened + 26 * DAY;
    await updates.post(mep, petition.slug, {
      title: 'Almost 1,400 of you have signed',
      body: 'To the regular readers of my blog: thank you. After almost a month we are close to 1,400 signatures. The Police Authority meets between 16 and 18 November — please ask one more person to sign.',
    });

    now = opened + 31 * DAY;
    // The worker records milestones within seconds of their passing, while the petition is open.
    await milestones.detect();
    await petitions.closeExpiredPetitions();
    await handin.recordPaperBatch(mep, petition.slug, { count: 96, collected_on: new Date(opened + 20 * DAY).toISOString().slice(0, 10), place: 'Street stall, Brixton', collected_by: 'Campaign volunteers' });
    now = opened + 32 * DAY;
    await handin.recordDelivery(mep, petition.slug, {
      delivered_at: new Date(now).toISOString(),
      place: 'City Hall, at the Metropolitan Police Authority board meeting',
      recipient_name: 'the Chair of the Police Authority',
      recipient_body: 'Metropolitan Police Authority',
      presented_by: 'The London MEP',
      notes: 'Five minutes to speak, with several Assembly Members present: the World Cup in Germany, the 2012 Olympics, and why conviction rates are low.',
    });
    await press.add(mep, petition.slug, {
      outlet: 'A TV politics programme',
      headline: 'Campaigners hand in trafficking unit petition at City Hall',
      date: new Date(now).toISOString().slice(0, 10),
      url: 'https://example.org/news/trafficking-unit-petition',
    });
    now = opened + 35 * DAY;
    await handin.recordResponse(mep, petition.slug, {
      responder: 'The Commissioner',
      responded_on: new Date(now).toISOString().slice(0, 10),
      text: 'Low conviction rates have nothing to do with the closure. The real issue is money: the Home Office gave the Met £1.8 million for the unit in 2007 and £700,000 the following year, and expected the Met to fund it itself after that.',
    });
    await handin.recordOutcome(mep, petition.slug, {
      outcome: 'pending',
      summary: 'The Police Authority is considering the future of the unit. Thank you to each and every one of you who signed.',
    });
    return {
      slug: petition.slug,
      accounts: [
        { email: 'mep@demo.undersign', password, role: 'campaigner (owner of the petition)' },
        { email: 'admin@demo.undersign', password, role: 'administrator and moderator' },
      ],
    };
  } finally {
    await ctx.close();
  }
}
