// Many small files against registry:2: a first push skips the HEAD for small blobs once the first
// ones all came back 404, a re-push still checks every blob (and uploads none), and small blobs move
// up to 16 at once in a push and 32 in a pull unless --concurrency is given.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  digestLine,
  digestOf,
  linesOf,
  statusNames,
  useCliFixture,
} from './support/cli-fixture.js';

const fx = useCliFixture('anonymous');
const COUNT = 40;

/**
 * `[debug] > METHOD URL` lines of a --debug run, as `METHOD path-kind`; over plain http only (the
 * one request that finds out the fixture's registry does not speak TLS is left out).
 */
function requestCounts(stderr: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of linesOf(stderr)) {
    const match = /^\[debug\] > (\S+) (http:\S+)/.exec(line);
    if (!match) continue;
    const url = match[2] ?? '';
    const kind = url.includes('/blobs/uploads/')
      ? 'upload'
      : url.includes('/blobs/')
        ? 'blob'
        : 'manifest';
    const key = `${match[1]} ${kind}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The most requests that were in flight at once, from the `>` and `<` lines of a --debug run. */
function peakInFlight(stderr: string, kind: RegExp): number {
  let now = 0;
  let peak = 0;
  for (const line of linesOf(stderr)) {
    const sent = /^\[debug\] > \S+ (\S+)/.exec(line);
    const answered = /^\[debug\] < \d+ \S+ (\S+)/.exec(line);
    if (sent && kind.test(sent[1] ?? '')) peak = Math.max(peak, ++now);
    if (answered && kind.test(answered[1] ?? '')) now--;
  }
  return peak;
}

async function writeSmallFiles(): Promise<{ names: string[]; contents: Buffer[] }> {
  const names: string[] = [];
  const contents: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = `small/f${String(i).padStart(2, '0')}.bin`;
    const bytes = randomBytes(4096);
    await fx.write(name, bytes);
    names.push(name);
    contents.push(bytes);
  }
  return { names, contents };
}

describe('ferry push/pull: many small files', () => {
  it('a first push checks the first blobs only, a re-push checks them all, and pull returns every byte', async () => {
    const { names, contents } = await writeSmallFiles();
    const repo = fx.repo('small');
    const first = await fx.ok(['push', `${repo}:v1`, ...names, '--debug', '--no-tty']);
    const counts = requestCounts(first.stderr);
    // 41 blobs (the empty config and 40 files). Skipping starts once 8 checks have answered 404;
    // by then all 16 workers have asked about their first blob. Then one small blob in 16 is
    // checked anyway. Without the skipping, all 41 would be.
    expect(counts['HEAD blob']).toBeGreaterThanOrEqual(16);
    expect(counts['HEAD blob']).toBeLessThanOrEqual(20);
    // The fixture's registry speaks plain http, found out by one request over https, not by 16.
    expect(
      linesOf(first.stderr).filter((l) => l.startsWith('[debug] > ') && l.includes(' https://')),
    ).toHaveLength(1);
    expect(counts['POST upload']).toBe(41);
    expect(counts['PUT upload']).toBe(41);
    expect(
      statusNames(first.stdout, 'Uploaded').filter((n) => n.startsWith('small/')),
    ).toHaveLength(COUNT);

    const again = await fx.ok(['push', `${repo}:v2`, ...names, '--debug', '--no-tty']);
    const againCounts = requestCounts(again.stderr);
    expect(againCounts['HEAD blob']).toBe(41);
    expect(againCounts['POST upload']).toBeUndefined();
    expect(statusNames(again.stdout, 'Exists').filter((n) => n.startsWith('small/'))).toHaveLength(
      COUNT,
    );
    // The same files make the same manifest.
    expect(digestLine(again)).toBe(digestLine(first));

    const pulled = await fx.ok(['pull', `${repo}:v1`, '-o', 'out', '--debug', '--no-tty']);
    // The tag's manifest in one GET (checked against the digest the registry sends): no HEAD
    // first, which cost every pull a round trip.
    // The 40 files' blobs; the empty config is not fetched.
    expect(requestCounts(pulled.stderr)).toEqual({ 'GET manifest': 1, 'GET blob': 40 });
    for (const [i, name] of names.entries()) {
      const bytes = await readFile(join(fx.dir, 'out', name));
      expect(digestOf(bytes)).toBe(digestOf(contents[i] ?? Buffer.alloc(0)));
    }
    // By default a pull moves up to 32 small blobs at once; registry:2 answers fast, so only the ceiling is sure.
    expect(peakInFlight(pulled.stderr, /\/blobs\/sha256:/)).toBeLessThanOrEqual(32);
    expect(peakInFlight(pulled.stderr, /\/blobs\/sha256:/)).toBeGreaterThan(5);
  }, 120_000);

  it('--concurrency applies to small blobs too, and a bad value is a usage error', async () => {
    const { names } = await writeSmallFiles();
    const repo = fx.repo('small-limit');
    await fx.ok(['push', `${repo}:v1`, ...names, '--no-tty']);
    const pulled = await fx.ok([
      'pull',
      `${repo}:v1`,
      '-o',
      'out',
      '--concurrency',
      '2',
      '--debug',
      '--no-tty',
    ]);
    expect(peakInFlight(pulled.stderr, /\/blobs\/sha256:/)).toBeLessThanOrEqual(2);

    // One bad value end to end; options.test.ts checks the others in process.
    const refused = await fx.run(['pull', `${repo}:v1`, '-o', 'bad', '--concurrency', '1.5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--concurrency 1.5');
  }, 120_000);
});
