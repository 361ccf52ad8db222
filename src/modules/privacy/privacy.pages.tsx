import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';

/** How signers' personal data is used: what a signer reads before trusting us with it. */
export function registerPrivacyPage(app: FastifyInstance, ctx: AppContext): void {
  app.get('/privacy', async (request, reply) => {
    const site = ctx.config.siteName;
    const page = (
      <Layout ctx={await pageContext(ctx, request, reply)} title="Privacy">
        <h1>How we look after your details</h1>
        <h2>What we collect when you sign</h2>
        <ul>
          <li>Your name, email address, country and (in the UK) postcode.</li>
          <li>The choices you ticked — to show your name publicly, and to hear from the campaign — with the exact words you saw and when.</li>
        </ul>
        <h2>Why</h2>
        <ul>
          <li>Your email address proves that each signature is a real person’s, once: we send you a link to confirm it.</li>
          <li>Your postcode shows the decision-maker where support comes from. Only the area (like “SW1A”) is ever shown or printed, never the full postcode.</li>
          <li>Your name appears publicly, and in the pack handed to the decision-maker, only if you chose that; otherwise it reads “Name withheld”.</li>
          <li>The campaign team emails you updates only if you ticked that box, and every email has a one-click unsubscribe link.</li>
        </ul>
        <h2>Who sees your details</h2>
        <p>
          The petition’s owners and editors can download signers’ details to run the campaign; every download is recorded. {site}’s moderators see them only to
          keep the petition honest. We never sell or share them. Email addresses never appear on any public page.
        </p>
        <h2>Your rights</h2>
        <ul>
          <li>Remove your signature at any time with the link in your confirmation email: your details are deleted and the count goes down.</li>
          <li>Stop campaign emails with the unsubscribe link in any of them.</li>
          <li>Ask the site’s administrators for a copy of your details, or for them to be erased.</li>
        </ul>
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'public, max-age=3600'), page);
  });
}
