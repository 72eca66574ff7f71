import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';

const entry = (file: string): string => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

/** Every file a bundle of `file` pulls in: the static import graph as Node would load it. */
async function inputsOf(file: string): Promise<string[]> {
  const result = await build({ entryPoints: [entry(file)], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, external: ['serialport'], logLevel: 'silent' });
  return Object.keys(result.metafile.inputs);
}

describe('@aerie/mavlink/core', () => {
  it('never loads node-mavlink or mavlink-mappings (the edge agent\'s memory budget depends on it)', async () => {
    const inputs = await inputsOf('core.js');
    expect(inputs.some((p) => p.endsWith('message-link.js'))).toBe(true);
    expect(inputs.filter((p) => /node_modules\/(node-mavlink|mavlink-mappings)/.test(p))).toEqual([]);
  });

  it('while the full entry does (the check above can fail)', async () => {
    const inputs = await inputsOf('index.js');
    expect(inputs.some((p) => /node_modules\/mavlink-mappings/.test(p))).toBe(true);
  });
});
