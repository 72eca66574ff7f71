import type { FastifyInstance, RouteOptions } from 'fastify';
import { DeliveryErrorCodes } from './errors.js';

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  summary: string;
}

/**
 * OpenAPI 3.1 generated from the routes' own JSON Schemas (the ones fastify validates with), so
 * the document cannot drift from what the server enforces. Call before the routes are added.
 */
export function collectOpenApi(app: FastifyInstance): () => Record<string, unknown> {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/v1/')) return;
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const schema = (r.schema ?? {}) as Record<string, unknown>;
    const config: { summary?: unknown } = r.config ?? {};
    const summary = typeof config.summary === 'string' ? config.summary : '';
    for (const m of methods) if (m !== 'HEAD') routes.push({ method: m.toLowerCase(), url: r.url, schema, summary });
  });
  return () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const params = r.schema.params as { properties?: Record<string, unknown> } | undefined;
      const query = r.schema.querystring as { properties?: Record<string, unknown> } | undefined;
      const parameters = [
        ...Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
        ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      ];
      (paths[path] ??= {})[r.method] = {
        summary: r.summary,
        ...(parameters.length ? { parameters } : {}),
        ...(r.schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
        responses: {
          '2XX': { description: 'success' },
          default: { description: 'RFC 9457 problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        },
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Aerie delivery-core', version: '1' },
      paths,
      // Either scheme on every /api/v1 operation (when keys or JWT are configured; auth.ts).
      security: [{ bearer: [] }, { apiKey: [] }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT (HS256, RS256, ES256) with claims sub, role, account' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
        schemas: {
          Problem: {
            type: 'object', required: ['type', 'title', 'status', 'code'],
            properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { enum: Object.keys(DeliveryErrorCodes) } },
          },
        },
      },
    };
  };
}
