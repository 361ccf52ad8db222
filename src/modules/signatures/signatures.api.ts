import type { FastifyInstance } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { SlugParams } from '../petitions/petitions.schema.ts';
import { SignAccepted, SignInput } from './signatures.schema.ts';


export const SIGN_RATE_LIMIT = { max: 60, timeWindow: '1 minute' };

/** Public JSON signing. The answer is the same for a new and a repeat address. */
export function registerSignaturesApi(app: FastifyInstance, ctx: AppContext): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/v1/petitions/:slug/signatures',
    {
      schema: { params: SlugParams, body: SignInput, response: { 202: SignAccepted } },
      // The body is checked once, by the service (parseSignInput), as the web form's is: it also
      // applies the postcode rule that depends on the country and names every field at fault at
      // once. The schema stays for the API reference; checking it here too cost a second Zod pass
      // on every signature.
      validatorCompiler: (route) => (route.httpPart === 'body' ? (body: unknown) => ({ value: body }) : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0])),
      config: { rateLimit: SIGN_RATE_LIMIT, anonymous: true, keepsPublicPage: true },
    },
    async (request, reply) => {
      await ctx.services.signatures.recordSignature(request.params.slug, (request.body as unknown) ?? {}, { ip: request.ip, language: request.language });
      return reply.status(202).send({ data: { status: 'pending_confirmation' as const } });
    },
  );

  // While the emergency check is on, API clients fetch a puzzle and send its answer with the signature.
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/signing-challenge',
    { schema: { response: { 200: z.object({ data: z.object({ required: z.boolean(), challenge: z.string().optional(), bits: z.number().int().optional() }) }) } } },
    async (_request, reply) => {
      const challenge = ctx.services.signatures.issueChallenge();
      reply.header('cache-control', 'no-store');
      return { data: challenge ? { required: true, ...challenge } : { required: false } };
    },
  );
}
