import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../lib/errors.ts';
import { requireApiUser } from '../auth/auth.plugin.ts';
import type { Petition } from '../petitions/petitions.service.ts';

const HAL = 'application/hal+json; charset=utf-8';
const PER_PAGE = 25;

/**
 * OSDI (Open Supporter Data Interface) for organisers' CRMs such as Action Network: the petition
 * and signature resources as HAL+JSON, and the record_signature helper to push signatures in.
 * Signatures pushed this way are confirmed by email like any other.
 */
export function registerOsdiApi(app: FastifyInstance, ctx: AppContext): void {
  const { petitions, signatures } = ctx.services;
  const base = `${ctx.config.baseUrl}/api/osdi/v1`;
  const petitionUrl = (p: Pick<Petition, 'slug'>) => `${base}/petitions/${encodeURIComponent(p.slug)}`;

  app.addContentTypeParser('application/hal+json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });

  const resource = (p: Petition) => ({
    identifiers: [`undersign:${p.slug}`],
    origin_system: ctx.config.siteName,
    created_date: p.createdAt,
    modified_date: p.updatedAt,
    title: p.title,
    summary: p.action.slice(0, 280),
    description: p.background,
    petition_text: p.action,
    browser_url: petitions.urlFor(p),
    total_signatures: p.signatureCount + p.paperSignatureCount,
    target: [{ name: [p.target.name, p.target.role, p.target.organisation].filter(Boolean).join(', ') }],
    _links: {
      self: { href: petitionUrl(p) },
      'osdi:signatures': { href: `${petitionUrl(p)}/signatures` },
      'osdi:record_signature_helper': { href: `${petitionUrl(p)}/signatures` },
    },
  });

  app.get('/api/osdi/v1', async (_request, reply) =>
    reply.type(HAL).send({
      motd: `${ctx.config.siteName} OSDI entry point`,
      vendor_name: 'Undersign',
      product_name: 'Undersign',
      osdi_version: '1.1',
      _links: { self: { href: base }, 'osdi:petitions': { href: `${base}/petitions` } },
    }),
  );

  app.get('/api/osdi/v1/petitions', async (request, reply) => {
    const page = Math.max(1, Number((request.query as { page?: string }).page) || 1);
    const result = await petitions.listPublic({ state: 'open', sort: 'newest', page, per_page: PER_PAGE });
    const items = result.petitions.map(resource);
    return reply.type(HAL).send({
      total_pages: result.page.total_pages,
      per_page: PER_PAGE,
      page,
      total_records: result.page.total,
      _links: {
        self: { href: `${base}/petitions?page=${page}` },
        ...(page < result.page.total_pages ? { next: { href: `${base}/petitions?page=${page + 1}` } } : {}),
        'osdi:petitions': items.map((i) => i._links.self),
      },
      _embedded: { 'osdi:petitions': items },
    });
  });

  app.get('/api/osdi/v1/petitions/:slug', async (request, reply) => {
    const petition = await petitions.getForViewer((request.params as { slug: string }).slug, null);
    return reply.type(HAL).send(resource(petition));
  });

  // Signatures carry personal data: only the petition's owners and editors, with their API token.
  app.get('/api/osdi/v1/petitions/:slug/signatures', async (request: FastifyRequest, reply) => {
    const user = await requireApiUser(ctx, request);
    const { slug } = request.params as { slug: string };
    const view = await petitions.viewFor(slug, user);
    if (!petitions.can(view, 'export')) throw new AppError('forbidden', 'Only the petition’s owners and editors can read its signatures.');
    const query = request.query as { page?: string; after?: string };
    const page = Math.max(1, Number(query.page) || 1);
    // `next` links carry the last signature shown (`after`): each page is then read from there
    // along the index, where a page number alone skips every signature before it. A page number
    // alone (a client jumping ahead) still works, and so does `after` whose signature went.
    const after = /^\d{1,15}$/.test(query.after ?? '') ? Number(query.after) : null;
    const signatures = ctx.repositories.signatures;
    const offset = { offset: (page - 1) * PER_PAGE };
    const rows = (after !== null ? await signatures.pageConfirmed(view.petition.id, PER_PAGE, { after }) : null) ?? (await signatures.pageConfirmed(view.petition.id, PER_PAGE, offset))!;
    // The petition's count is its confirmed signatures (kept exact with them): no count of rows.
    const total = view.petition.signatureCount;
    const items = rows.map((s) => {
      const [given, ...family] = s.name.split(' ');
      return {
        identifiers: [`undersign:signature-${s.id}`],
        created_date: s.created_at,
        modified_date: s.confirmed_at ?? s.created_at,
        _links: { self: { href: `${petitionUrl(view.petition)}/signatures/${s.id}` }, 'osdi:petition': { href: petitionUrl(view.petition) } },
        _embedded: {
          'osdi:person': {
            given_name: given ?? '',
            family_name: family.join(' '),
            email_addresses: [{ address: s.email, primary: true, status: s.contact_opt_in ? 'subscribed' : 'unsubscribed' }],
            postal_addresses: [{ postal_code: s.postcode ?? undefined, country: s.country, primary: true }],
          },
        },
      };
    });
    const totalPages = Math.max(1, Math.ceil(total / PER_PAGE));
    return reply.type(HAL).send({
      total_pages: totalPages,
      per_page: PER_PAGE,
      page,
      total_records: total,
      _links: {
        self: { href: `${petitionUrl(view.petition)}/signatures?page=${page}` },
        ...(page < totalPages && rows.length > 0 ? { next: { href: `${petitionUrl(view.petition)}/signatures?page=${page + 1}&after=${rows.at(-1)!.id}` } } : {}),
        'osdi:signatures': items.map((i) => i._links.self),
      },
      _embedded: { 'osdi:signatures': items },
    });
  });

  // The record_signature helper: a person (OSDI shape) signs; they confirm by email like anyone.
  app.post('/api/osdi/v1/petitions/:slug/signatures', { config: { rateLimit: { max: 60, timeWindow: '1 minute' } } }, async (request, reply) => {
    const { slug } = request.params as { slug: string };
    const person = ((request.body ?? {}) as { person?: Record<string, unknown> }).person ?? {};
    const emails = (person.email_addresses ?? []) as { address?: string }[];
    const addresses = (person.postal_addresses ?? []) as { postal_code?: string; country?: string }[];
    await signatures.recordSignature(slug, {
      name: [person.given_name, person.family_name].filter((v) => typeof v === 'string' && v).join(' '),
      email: emails[0]?.address,
      postcode: addresses[0]?.postal_code,
      country: addresses[0]?.country ?? 'GB',
    });
    const petition = await petitions.getForViewer(slug, null);
    return reply
      .status(202)
      .type(HAL)
      .send({
        status: 'pending_confirmation',
        comment: 'The signer has been emailed a link; the signature counts once they follow it.',
        _links: { 'osdi:petition': { href: petitionUrl(petition) } },
      });
  });
}
