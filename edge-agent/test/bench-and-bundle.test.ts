import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const data = (f: string): string => fileURLToPath(new URL(`../../../shared/data/${f}`, import.meta.url));

describe('operator artefacts', () => {
  it('bench:agent runs in smoke mode and ends with the issue\'s JSON keys (no timing asserted)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(pkg, 'dist/bench/agent.js'), '--smoke'], { timeout: 120_000 });
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    expect(Object.keys(last)).toEqual(['bench', 'rss_mb', 'cpu_pct', 'value', 'baseline', 'ratio']);
    expect(last.value).toBeGreaterThan(0);
    expect(last.baseline).toBeGreaterThan(0);
  });

  it('the esbuild single-file bundle runs on its own (replay of a real log)', () => {
    const out = mkdtempSync(join(tmpdir(), 'aerie-bundle-'));
    try {
      const esbuild = fileURLToPath(new URL('../../node_modules/.bin/esbuild', import.meta.url));
      const bundle = join(out, 'aerie-agent.mjs');
      execFileSync(esbuild, [join(pkg, 'dist/main.js'), '--bundle', '--platform=node', '--format=esm', '--external:serialport', `--outfile=${bundle}`,
        '--banner:js=import{createRequire as __cr}from"module";const require=__cr(import.meta.url);', '--log-level=error', `--metafile=${join(out, 'meta.json')}`]);
      // The agent speaks MAVLink through the hand-written codec: node-mavlink's generated classes (~30 MB of RSS) are not in it.
      const inputs = Object.keys((JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> }).inputs);
      expect(inputs.some((p) => p.includes('mavlink/dist/message-link.js'))).toBe(true);
      expect(inputs.filter((p) => /node_modules\/(node-mavlink|mavlink-mappings|azure-iot-device(-mqtt)?)\//.test(p))).toEqual([]);
      // The IoT Hub transport is the second file of the bundle, loaded from beside it only when chosen.
      const iothub = join(out, 'adapters', 'iothub-uplink.js');
      execFileSync(esbuild, [join(pkg, 'dist/adapters/iothub-uplink.js'), '--bundle', '--platform=node', '--format=esm', `--outfile=${iothub}`,
        '--banner:js=import{createRequire as __cr}from"module";const require=__cr(import.meta.url);', '--log-level=warning']);
      expect(execFileSync(process.execPath, ['--input-type=module', '-e', `console.log(Object.keys(await import(${JSON.stringify(iothub)})).join())`], { cwd: out, encoding: 'utf8' }).trim())
        .toBe('IotHubUplink,iothubUplinkOptions');
      // Run from an empty directory: nothing but the bundle and Node.
      const stdout = execFileSync(process.execPath, [bundle, 'replay', data('ardusub-v2.tlog')], { cwd: out, encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ packets: 35912, modes: ['MANUAL'] });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
