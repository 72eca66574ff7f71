import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (f: string): string => fileURLToPath(new URL(`../dist/${f}`, import.meta.url));

/** CommonJS packages the agent's modules loaded (ESM imports of CommonJS go through require's cache). */
function loadedPackages(...modules: string[]): string[] {
  const script = `
    for (const m of ${JSON.stringify(modules)}) await import(m);
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    const names = new Set(Object.keys(cache).map((k) => k.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...names].sort()));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('what the agent process loads (its RSS budget, bench:agent < 60 MB)', () => {
  it('an MQTT agent (start, --check, replay) loads neither node-mavlink\'s generated classes nor the IoT Hub SDK', () => {
    const loaded = loadedPackages(dist('start.js'), dist('check.js'), dist('replay.js'));
    expect(loaded).toContain('mqtt');
    expect(loaded.filter((p) => /^(node-mavlink|mavlink-mappings|azure-iot-device|azure-iot-device-mqtt)$/.test(p))).toEqual([]);
  });

  it('the IoT Hub transport loads its SDK when chosen (so the check above can fail)', () => {
    expect(loadedPackages(dist('adapters/iothub-uplink.js'))).toEqual(expect.arrayContaining(['azure-iot-device', 'azure-iot-device-mqtt']));
  });
});
