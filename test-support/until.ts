/**
 * Polls `probe` until it returns something truthy and returns that; fails after `realMs` of
 * wall-clock time with what it was waiting for. A bound against hangs, never a timing assertion.
 */
export async function until<T>(probe: () => T | undefined | null | false, what: string, realMs = 20_000): Promise<T> {
  const end = Date.now() + realMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${realMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
