import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { notFound } from '../../lib/errors.ts';
import { Layout } from '../../views/layout.tsx';
import { pageContext } from '../../views/pages.tsx';
import { sendPage } from '../../views/render.ts';

/**
 * The dev outbox: mail that would have been sent, for trying Undersign without an SMTP server.
 * Mounted only outside production and only when no SMTP_URL is set.
 */
export function registerDevMailPages(app: FastifyInstance, ctx: AppContext): void {
  app.get('/_dev/mail', async (request, reply) => {
    const mails = await ctx.devOutbox.list();
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title="Dev outbox">
        <h1>Dev outbox</h1>
        <p>
          Emails the site would have sent. This page exists only in development, when <code>SMTP_URL</code> is not set.
        </p>
        {mails.length === 0 ? (
          <p>No emails yet.</p>
        ) : (
          <table class="table">
            <caption class="visually-hidden">Emails, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Sent</th>
                <th scope="col">To</th>
                <th scope="col">Subject</th>
              </tr>
            </thead>
            <tbody>
              {mails.map((m) => (
                <tr>
                  <td>{m.date}</td>
                  <td>{m.to}</td>
                  <td>
                    <a href={`/_dev/mail/${m.id}`}>{m.subject}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page);
  });

  app.get('/_dev/mail/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const mail = await ctx.devOutbox.get(id);
    if (!mail) throw notFound('No such email in the dev outbox.');
    const links = [...mail.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
    const pageCtx = await pageContext(ctx, request, reply);
    const page = () => (
      <Layout ctx={pageCtx} title={mail.subject}>
        <p>
          <a href="/_dev/mail">← Dev outbox</a>
        </p>
        <h1>{mail.subject}</h1>
        <dl class="mail-meta">
          <dt>From</dt>
          <dd>{mail.from}</dd>
          <dt>To</dt>
          <dd>{mail.to}</dd>
          <dt>Date</dt>
          <dd>{mail.date}</dd>
        </dl>
        <pre class="mail-body">{mail.text}</pre>
        {links.length ? (
          <>
            <h2>Links in this email</h2>
            <ul>
              {links.map((href) => (
                <li>
                  <a href={href}>{href}</a>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Layout>
    );
    return sendPage(reply.header('cache-control', 'no-store'), page);
  });
}
