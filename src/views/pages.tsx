import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { AppError } from '../lib/errors.ts';
import { Layout, type PageContext } from './layout.tsx';

/** Builds the {@link PageContext} for a request: site name, signed-in user, a fresh CSRF token. */
export async function pageContext(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, options: { csrfToken?: string } = {}): Promise<PageContext> {
  return {
    siteName: ctx.config.siteName,
    user: request.user,
    // A page rendered for the public cache carries a placeholder, filled in per visitor.
    csrfToken: options.csrfToken ?? reply.generateCsrf(),
    devMail: ctx.config.env !== 'production' && !ctx.config.smtpUrl,
  };
}

const ERROR_TITLES: Record<number, string> = {
  400: 'Something in the request was not right',
  401: 'Please sign in',
  403: 'You cannot do that',
  404: 'Page not found',
  409: 'That cannot be done now',
  413: 'That was too large',
  422: 'Please check what you entered',
  429: 'Too many attempts',
  500: 'Sorry, something went wrong',
  503: 'The site is busy',
};

export const ErrorPage = ({ ctx, error }: { ctx: PageContext; error: AppError }) => {
  const title = ERROR_TITLES[error.status] ?? 'Something went wrong';
  return (
    <Layout ctx={ctx} title={title}>
      <h1>{title}</h1>
      <p>{error.message}</p>
      {error.status === 401 ? (
        <p>
          <a href="/login">Sign in</a>
        </p>
      ) : null}
      <p>
        <a href="/">Go to the home page</a>
      </p>
    </Layout>
  );
};
