import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';

/**
 * OpenAPI 3.0 schema → JSON Schema for Ajv: exclusive bounds are booleans beside minimum/maximum
 * there (numbers here), and `nullable: true` becomes a null alternative.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = key === 'example' ? value : toJsonSchema(value);
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) delete out[flag];
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.anyOf)) out.anyOf = [...out.anyOf, { type: 'null' }];
  }
  return out;
}

describe('the API description', () => {
  let t: TestApp;
  let spec: { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> }>> };

  before(async () => {
    t = await createTestApp('sqlite');
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    spec = res.json();
  });
  after(() => t.close());

  it('describes every JSON API route, and nothing else', () => {
    const apiRoutes = t.app.registeredRoutes
      .filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD')
      .map((r) => `${r.method.toLowerCase()} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    const described = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    assert.ok(apiRoutes.length > 30);
    assert.deepEqual(described.filter((d) => d.includes('/api/v1/')).sort(), [...new Set(apiRoutes)].sort());
    assert.ok(!described.some((d) => d.includes('/petitions/{slug}/edit') || d.includes('/login')), 'web pages are not in the API description');
  });

  it('is sent compressed to readers that take it, the same description', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(gunzipSync(res.rawPayload).toString()), spec);
  });

  it('documents request bodies from the same schemas that validate them', () => {
    const create = spec.paths['/api/v1/petitions']!.post!;
    const body = create.requestBody!.content['application/json']!.schema as { required: string[]; properties: Record<string, unknown> };
    assert.deepEqual([...body.required].sort(), ['action', 'background', 'target', 'title']);
    const sign = spec.paths['/api/v1/petitions/{slug}/signatures']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown> };
    for (const field of ['name', 'email', 'postcode', 'country', 'public_name', 'contact_opt_in']) assert.ok(sign.properties[field], field);
    assert.ok(spec.paths['/api/v1/petitions/{slug}']!.get!.responses['200']);
  });

  it('gives an example for every JSON request body, and every example validates against its schema', () => {
    // OpenAPI 3.0 schemas are JSON Schema with `nullable` and `example`, which Ajv understands.
    const ajv = new Ajv({ strict: false, allErrors: true, formats: { date: true, 'date-time': true, email: true, uri: true, uuid: true } });
    const examples: { where: string; schema: unknown; example: unknown }[] = [];
    const collect = (node: unknown, where: string) => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n, i) => collect(n, `${where}[${i}]`));
      const schema = node as Record<string, unknown>;
      if ('example' in schema && ('type' in schema || 'properties' in schema || 'anyOf' in schema)) examples.push({ where, schema, example: schema.example });
      for (const [key, value] of Object.entries(schema)) if (key !== 'example') collect(value, `${where}.${key}`);
    };
    const bodies: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        collect(op, `${method} ${path}`);
        const json = op.requestBody?.content['application/json'];
        if (json) bodies.push(`${method} ${path}`);
        if (json) assert.match(JSON.stringify(json.schema), /"example":/, `${method} ${path} has no example`);
      }
    }
    assert.ok(bodies.length >= 15, `${bodies.length} JSON request bodies`);
    assert.ok(examples.length >= bodies.length, `${examples.length} examples`);
    for (const { where, schema, example } of examples) {
      const { example: _omit, ...withoutExample } = schema as Record<string, unknown>;
      const validate = ajv.compile(toJsonSchema(withoutExample) as object);
      assert.ok(validate(example), `${where}: the example does not validate: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it('serves a reader at /api/docs from its own files', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/api/docs' });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /https?:\/\/(cdn|unpkg|cdnjs)/);
    assert.doesNotMatch(String(page.headers['content-security-policy']), /upgrade-insecure-requests/);
    const bundle = await t.app.inject({ method: 'GET', url: '/api/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
  });
});
