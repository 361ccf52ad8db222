import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import helmet, { type HelmetOptions } from 'helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyUnderPressure from '@fastify/under-pressure';
import { LoadMonitor } from './modules/health/load-monitor.ts';
import { fastifyStoreFor } from './modules/safety/rate-limits.ts';
import { isBadDataError, isDatabaseUnavailable } from './db/dialect.ts';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AppContext } from './context.ts';
import { AppError, type ErrorCode } from './lib/errors.ts';
import { AccessLog } from './lib/access-log.ts';
import { registerStaticFiles } from './views/static-files.ts';
import { registerAdminPages } from './modules/admin/admin.pages.tsx';
import { registerAuth } from './modules/auth/auth.plugin.ts';
import { registerAuthPages } from './modules/auth/auth.pages.tsx';
import { registerDevMailPages } from './modules/dev-mail/dev-mail.pages.tsx';
import { registerHealthRoutes } from './modules/health/health.routes.ts';
import { registerBrowsePages } from './modules/petitions/browse.pages.tsx';
import { registerPetitionsApi } from './modules/petitions/petitions.api.ts';
import { registerPetitionPages } from './modules/petitions/petitions.pages.tsx';
import { registerSignaturesApi } from './modules/signatures/signatures.api.ts';
import { registerSignaturePages } from './modules/signatures/signatures.pages.tsx';
import { registerTeamsApi } from './modules/teams/teams.api.ts';
import { registerTeamPages } from './modules/teams/teams.pages.tsx';
import { registerThanksPages } from './modules/mailings/thanks.pages.tsx';
import { registerUnsubscribePages } from './modules/mailings/unsubscribe.pages.tsx';
import { registerUpdatesApi } from './modules/updates/updates.api.ts';
import { registerUpdateFeeds } from './modules/updates/updates.feeds.ts';
import { registerUpdatePages } from './modules/updates/updates.pages.tsx';
import { MAX_IMAGE_BYTES, registerUploadRoutes } from './modules/uploads/uploads.ts';
import { registerEndorsementsApi } from './modules/endorsements/endorsements.api.ts';
import { registerEndorsementPages } from './modules/endorsements/endorsements.pages.tsx';
import { registerPressRoutes } from './modules/press/press.routes.tsx';
import { registerSharingRoutes } from './modules/sharing/sharing.routes.tsx';
import { registerHandinApi } from './modules/handin/handin.api.ts';
import { registerHandinPages } from './modules/handin/handin.pages.tsx';
import { registerPrivacyPage } from './modules/privacy/privacy.pages.tsx';
import { registerOpenApi } from './modules/openapi/openapi.ts';
import { registerOsdiApi } from './modules/osdi/osdi.api.ts';
import { registerWebhookRoutes } from './modules/webhooks/webhooks.routes.tsx';
import { registerStatsRoutes } from './modules/stats/stats.routes.tsx';
import { registerFraudRoutes } from './modules/safety/fraud.routes.tsx';
import { ErrorPage, pageContext } from './views/pages.tsx';
import { registerLanguage } from './i18n/language.plugin.ts';
import { allLocalisedPageKeys } from './views/page-cache.ts';
import { sendPage } from './views/render.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route as registered (method and URL), e.g. to check the API description is complete. */
    registeredRoutes: { method: string; url: string }[];
  }
  interface FastifyContextConfig {
    /** Routes that change state through a form; the CSRF token is checked before them. */
    csrf?: boolean;
    /** API writes anyone may make without a token (signing). */
    anonymous?: boolean;
    /** Writes the public page does not show (a pending signature): its cached copy stays. */
    keepsPublicPage?: boolean;
  }
}

/**
 * The event loop's mean delay (ms) past which answers close their connection. Node 20's libuv
 * takes one new connection from the kernel's queue per turn of the loop, so while a turn takes
 * 50 ms a new visitor can wait seconds to be read at all, behind connections already open that
 * keep sending (a crowd of signers, a balancer's pooled connections): closed after their answer,
 * those queue again with everyone else, first come first served (docs/performance.md).
 */
const CROWDED_LOOP_DELAY_MS = 50;

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** Builds the web application for a context; does not listen. Tests call this with `app.inject()`. */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const { config } = ctx;
  const secure = config.baseUrl.startsWith('https:');
  const log = ctx.log.child({}, { level: config.env === 'test' ? 'warn' : config.logLevel });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new AccessLog(log.isLevelEnabled('info')),
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    bodyLimit: 256 * 1024,
  });

  const registeredRoutes: { method: string; url: string }[] = [];
  app.decorate('registeredRoutes', registeredRoutes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const securityHeaders: HelmetOptions = {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        upgradeInsecureRequests: secure ? [] : null,
      },
    },
    hsts: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  };
  // helmet's headers (the library @fastify/helmet wraps) are the same for every response here, so
  // they are worked out once and set by one hook: the plugin rebuilt them on every request, and
  // even registered but not global its hook cost 1.5 % of a signature's CPU (bench/profile.ts).
  const headers = securityHeadersOf(securityHeaders);
  // How late the event loop runs: past MAX_EVENT_LOOP_DELAY_MS the site sheds load (below); past
  // CROWDED_LOOP_DELAY_MS its answers close their connections (see LoadMonitor.isCrowded).
  const monitor = config.maxEventLoopDelayMs > 0 ? new LoadMonitor(config.maxEventLoopDelayMs, { crowdedDelayMs: CROWDED_LOOP_DELAY_MS }) : null;
  if (monitor) app.addHook('onClose', async () => monitor.close());
  if (config.metrics) {
    ctx.metrics.watchLoad(monitor);
    // By the route's pattern, never the address (slugs and tokens would make endless series).
    app.addHook('onResponse', (request, reply, done) => {
      ctx.metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    if (monitor?.isCrowded) reply.header('connection', 'close');
    ctx.visitors.record();
    done();
  });
  await app.register(fastifyCookie, { secret: derivedKey(config.secretKey, 'cookies') });
  await registerLanguage(app, { secure, defaultLanguage: config.defaultLanguage });
  await app.register(fastifyCsrf, {
    cookieKey: 'undersign_csrf',
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure, signed: true },
  });
  await app.register(fastifyFormbody);
  if (config.rateLimit) {
    await app.register(fastifyRateLimit, {
      global: false,
      // Counted where every app process sees the same numbers (see RATE_LIMIT_STORE).
      store: fastifyStoreFor(ctx.rateLimitStore, () => ctx.clock().getTime()),
      errorResponseBuilder: (_req, context) =>
        new AppError('rate_limited', `Too many attempts. Please wait ${context.after} and try again.`),
    });
  }
  if (monitor) {
    // Shed load before latency collapses: a quick 503 with Retry-After beats a timeout or a 502.
    // The delay is judged over half-second windows (see LoadMonitor), not single ticks.
    await app.register(fastifyUnderPressure, {
      healthCheck: async () => !monitor.isOverloaded,
      healthCheckInterval: 100,
      retryAfter: 5,
      pressureHandler: (request, reply) => {
        const error = new AppError('service_unavailable', 'The site is very busy right now. Please try again in a few seconds.', { retryAfterSeconds: 5 });
        return handleError(ctx, error, request, reply);
      },
    });
  }
  registerStaticFiles(app, PUBLIC_DIR);

  // Every form that changes something carries a CSRF token; JSON API calls use Bearer tokens instead.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.routeOptions.config.csrf) return app.csrfProtection(request, reply, done);
    done();
  });

  // The hooks every request passes are callback hooks, not async ones: an async hook costs each
  // request a promise and a turn of the microtask queue, for checks that are synchronous.

  // The JSON API speaks JSON only; a form or text body there is a client mistake worth naming.
  app.addHook('onRequest', (request, _reply, done) => {
    const type = request.headers['content-type'];
    // …except paper signatures, which may also arrive as a CSV file.
    const csvImport = /^text\/csv\b/i.test(type ?? '') && /\/paper-signatures(\?|$)/.test(request.url);
    if (type && request.url.startsWith('/api/') && !csvImport && !/^application\/(.+\+)?json\b/i.test(type)) {
      return done(new AppError('unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).'));
    }
    done();
  });

  // API writes need a token, except those marked anonymous (signing): say so before looking at the body.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.startsWith('/api/v1/') && request.method !== 'GET' && request.method !== 'HEAD' && !request.routeOptions.config.anonymous && !request.headers.authorization) {
      return done(new AppError('unauthenticated', 'Send an API token as "Authorization: Bearer <token>".'));
    }
    done();
  });

  // NUL never belongs in web text, and PostgreSQL cannot store it: refuse it at the door.
  app.addHook('preValidation', (request, _reply, done) => {
    const field = nulPath(request.body) ?? nulPath(request.query) ?? nulPath(request.params);
    if (field !== null) {
      const message = 'Remove the NUL character: it is not allowed in text';
      return done(new AppError('validation_failed', field ? `${field}: ${message}` : message, field ? { field } : {}));
    }
    done();
  });

  // A change to a petition through this process drops its cached public page at once, and the
  // home page and lists that may show it (their keys are their addresses, which start with "/";
  // a petition's start with its slug).
  app.addHook('onResponse', (request, _reply, done) => {
    const slug = (request.params as { slug?: unknown } | undefined)?.slug;
    if (request.method !== 'GET' && request.method !== 'HEAD' && typeof slug === 'string' && !request.routeOptions.config.keepsPublicPage) {
      for (const key of allLocalisedPageKeys(slug)) ctx.services.pageCache.forget(key);
      ctx.services.pageCache.forget(`api:${slug}`);
      ctx.services.pageCache.forgetStartingWith('/');
    }
    done();
  });

  registerAuth(app, ctx);
  app.setErrorHandler((error, request, reply) => handleError(ctx, error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    handleError(ctx, new AppError('not_found', 'There is nothing at this address.'), request, reply),
  );

  await registerOpenApi(app, ctx);
  registerHealthRoutes(app, ctx);
  registerBrowsePages(app, ctx);
  registerAuthPages(app, ctx);
  registerPetitionPages(app, ctx);
  registerSignaturePages(app, ctx);
  registerTeamPages(app, ctx);
  // Forms with a file (an image, a CSV of paper signatures): fields and the file arrive in
  // request.body, checked like any other form. Only these pages take multipart bodies, so only
  // their requests pay for the plugin's per-request hook.
  await app.register(async (withUploads) => {
    await withUploads.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 30, fieldSize: 100_000 },
    });
    registerUpdatePages(withUploads, ctx);
    registerEndorsementPages(withUploads, ctx);
    registerPressRoutes(withUploads, ctx);
    registerThanksPages(withUploads, ctx);
    registerHandinPages(withUploads, ctx);
  });
  registerUpdateFeeds(app, ctx);
  registerUnsubscribePages(app, ctx);
  registerUploadRoutes(app, ctx);
  registerSharingRoutes(app, ctx);
  registerPrivacyPage(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
  registerFraudRoutes(app, ctx);
  registerAdminPages(app, ctx);
  registerPetitionsApi(app, ctx);
  registerSignaturesApi(app, ctx);
  registerTeamsApi(app, ctx);
  registerUpdatesApi(app, ctx);
  registerEndorsementsApi(app, ctx);
  registerHandinApi(app, ctx);
  registerOsdiApi(app, ctx);
  if (config.env !== 'production' && !config.smtpUrl) registerDevMailPages(app, ctx);

  return app;
}

function derivedKey(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(`undersign:${purpose}`).digest('base64url');
}

/** Framework errors mapped to our stable codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_CSRF_INVALID_TOKEN: 'csrf_failed',
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_FILES_LIMIT: 'payload_too_large',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'bad_request',
  FST_CSRF_MISSING_SECRET: 'csrf_failed',
};

/** Turns any error into an {@link AppError}; unknown errors become a logged 500 that reveals nothing. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields: Record<string, string> = {};
    for (const v of error.validation) {
      const path = String(v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
      fields[path || 'body'] ??= v.message ?? 'is not valid';
    }
    const [field, message] = Object.entries(fields)[0] ?? ['body', 'is not valid'];
    return new AppError('validation_failed', field === 'body' ? message : `${field}: ${message}`, { fields });
  }
  if (isBadDataError(error)) return new AppError('bad_request', 'Something in the request could not be stored or searched for. Check for unusual characters.');
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: error }, 'the database was unavailable');
    return new AppError('service_unavailable', 'The site cannot reach its database just now. Please try again in a few seconds.', { retryAfterSeconds: 5 });
  }
  const fastifyError = error as FastifyError;
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped === 'csrf_failed') {
    return new AppError(mapped, 'This form has expired or was sent from another site. Go back, reload the page and try again.');
  }
  if (mapped) return new AppError(mapped, fastifyError.message);
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(status === 404 ? 'not_found' : 'bad_request', fastifyError.message);
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('internal_error', 'Something went wrong on our side. Please try again in a moment.');
}

/**
 * Where a string in a parsed query or body holds U+0000: its path ("target.name"), '' for the
 * value itself, or null when there is none. File uploads are bytes, not text, and are skipped.
 */
function nulPath(value: unknown, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? '' : null;
  if (depth > 20 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return null;
  // Every request's body passes here: the path is spelled out only for a value found.
  for (const key of Object.keys(value)) {
    if (key.includes('\u0000')) return '';
    const found = nulPath((value as Record<string, unknown>)[key], depth + 1);
    if (found !== null) return found === '' ? key : `${key}.${found}`;
  }
  return null;
}

async function handleError(ctx: AppContext, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(error, request);
  if (appError.retryAfterSeconds !== null) reply.header('retry-after', String(appError.retryAfterSeconds));
  if (appError.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
  if (request.url.startsWith('/api/') || request.url === '/healthz') {
    return reply.status(appError.status).type('application/json; charset=utf-8').send(appError.toJSON());
  }
  const page = await pageContext(ctx, request, reply);
  return sendPage(reply, () => ErrorPage({ ctx: page, error: appError }), appError.status);
}

/** The headers helmet sets for these options, captured once (they do not depend on the request). */
function securityHeadersOf(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished || !headers['content-security-policy']) throw new Error('helmet did not produce the security headers synchronously');
  return headers;
}
