import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { PageTemplate } from '../../views/page-cache.ts';
import { sendTemplate } from '../../views/render.ts';

/**
 * The JSON API described from the routes' own Zod schemas: `/api/openapi.json`, and a reader at
 * `/api/docs` served from the package's files (no CDN). Only `/api/` routes and `/healthz` appear.
 */
export async function registerOpenApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: `${ctx.config.siteName} API`,
        version: '1',
        description: 'Petitions, signatures, teams, campaigning and the hand-in. Errors are always {"error":{"code","message","field"}}.',
      },
      servers: [{ url: ctx.config.baseUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `undersign token create`' } } },
    },
    transform: (input) => {
      const documented = input.url.startsWith('/api/v1/') || input.url === '/healthz';
      if (!documented) return { schema: { ...input.schema, hide: true }, url: input.url };
      return jsonSchemaTransform(input);
    },
  });
  const secure = ctx.config.baseUrl.startsWith('https:');
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    // The reader's own policy, less what would break it on plain http or call another site.
    transformStaticCSP: (header) => (secure ? header : header.replace(/upgrade-insecure-requests;?/, '')).replace(' validator.swagger.io', ''),
    uiConfig: { docExpansion: 'list', deepLinking: false, validatorUrl: null },
  });
  // The description is the same for every reader once the routes are registered: written once
  // (92 KB; serialised for each reader it was ~1,000 a second) and sent compressed (~9 KB).
  let description: PageTemplate | null = null;
  app.get('/api/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    description ??= PageTemplate.split(JSON.stringify(app.swagger()), []);
    return sendTemplate(reply, description, {}, 200, 'application/json; charset=utf-8');
  });
}
