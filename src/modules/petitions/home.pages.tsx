import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { formatNumber } from '../../views/components.tsx';
import { Layout, type PageContext } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';
import type { Petition } from './petitions.service.ts';

const HomePage = (p: { ctx: PageContext; petitions: Petition[] }) => (
  <Layout ctx={p.ctx} title={p.ctx.siteName} description="Start a petition, gather signatures and hand them in to the people who decide.">
    <section class="hero">
      <h1>Petitions that reach the people who decide</h1>
      <p>Start a petition, gather signatures confirmed by email, and hand them in before the decision is made.</p>
      <p>
        <a class="button button-primary" href="/petitions/new">
          Start a petition
        </a>
      </p>
    </section>
    <section aria-labelledby="open-title">
      <h2 id="open-title">Open petitions</h2>
      {p.petitions.length === 0 ? (
        <p>There are no open petitions yet.</p>
      ) : (
        <ul class="petition-list">
          {p.petitions.map((petition) => (
            <li>
              <a href={`/petitions/${encodeURIComponent(petition.slug)}`}>{petition.title}</a>
              <span class="meta">
                {' '}
                — {formatNumber(petition.signatureCount)} {petition.signatureCount === 1 ? 'signature' : 'signatures'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  </Layout>
);

export function registerHomePage(app: FastifyInstance, ctx: AppContext): void {
  app.get('/', async (request, reply) => {
    const petitions = await ctx.services.petitions.listOpen(20);
    return sendPage(reply, HomePage({ ctx: await pageContext(ctx, request, reply), petitions }));
  });
}
