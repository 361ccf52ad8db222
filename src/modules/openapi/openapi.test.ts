import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';

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

  it('documents request bodies from the same schemas that validate them', () => {
    const create = spec.paths['/api/v1/petitions']!.post!;
    const body = create.requestBody!.content['application/json']!.schema as { required: string[]; properties: Record<string, unknown> };
    assert.deepEqual([...body.required].sort(), ['action', 'background', 'target', 'title']);
    const sign = spec.paths['/api/v1/petitions/{slug}/signatures']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown> };
    for (const field of ['name', 'email', 'postcode', 'country', 'public_name', 'contact_opt_in']) assert.ok(sign.properties[field], field);
    assert.ok(spec.paths['/api/v1/petitions/{slug}']!.get!.responses['200']);
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
