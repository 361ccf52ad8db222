import type { z } from 'zod';

/**
 * Gives a schema an example for the API description (`/api/openapi.json`). The example is typed
 * as the schema's input, and the OpenAPI test checks each one validates against what is served.
 */
export function withExample<T extends z.ZodType>(schema: T, example: z.input<T>): T {
  return schema.meta({ example }) as T;
}
