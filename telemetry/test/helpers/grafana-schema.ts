import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';

/**
 * A validator for Grafana's classic dashboard JSON model (what file provisioning loads), from a
 * JSON Schema generated out of @grafana/schema's `Dashboard` type (raw/dashboard/x/types.gen.ts).
 * Interfaces become `additionalProperties: false`, so a misspelt key fails. Lives here, not in
 * dashboards/test/, because ajv 8 is telemetry's dev dependency (the root has eslint's ajv 6).
 */
export function grafanaDashboardValidator(): ValidateFunction {
  const path = fileURLToPath(import.meta.resolve('@grafana/schema/package.json')).replace(/package\.json$/, 'dist/types/raw/dashboard/x/types.gen.d.ts');
  const schema = createGenerator({ path, type: 'Dashboard', skipTypeCheck: true, expose: 'all', topRef: true }).createSchema('Dashboard');
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}
