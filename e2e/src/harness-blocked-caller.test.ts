import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startRegistry } from './harness/index.js';

// registry:2 logs every HEAD of a missing blob as an error line of ~800 bytes. Its output used to
// reach the harness through a pipe that only this process's event loop drained, so a caller that
// blocked in spawnSync (as benchmark scripts do) let the pipe fill after about a hundred such lines;
// the registry's logger then blocked in write(2) holding its lock and every request that
// logs (404s, uploads) hung, while /v2/ still answered. BENCHMARKS.md run J's "second push hangs"
// was this. The registry now writes to a file; its lines still reach `log`, none lost.
const MISSING = 1_000;

/** Sends MISSING HEADs for blobs that do not exist, four at a time; prints how many got 404. */
const headMissing = `
const [url, total] = [process.argv[1], Number(process.argv[2])];
let next = 0;
let notFound = 0;
async function worker() {
  while (next < total) {
    const i = next++;
    const digest = 'sha256:' + i.toString(16).padStart(64, '0');
    const res = await fetch(url + '/v2/blocked/caller/blobs/' + digest, { method: 'HEAD' });
    if (res.status === 404) notFound++;
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
process.stdout.write(notFound + ' of ' + total + ' not found\\n');
`;

describe('registry harness with a caller blocked in spawnSync', () => {
  it('keeps answering requests that log, and loses none of the lines', async () => {
    const lines: string[] = [];
    const registry = await startRegistry({ mode: 'anonymous', log: (s) => lines.push(s) });
    let result: ReturnType<typeof spawnSync>;
    try {
      // This process's event loop does not run until the child is done.
      result = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', headMissing, registry.url, String(MISSING)],
        { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' },
      );
    } finally {
      await registry.stop();
    }
    expect(result.signal, 'the HEADs hung: the registry was blocked writing its log').toBeNull();
    expect(result.stdout).toBe(`${MISSING} of ${MISSING} not found\n`);
    const unknown = lines.filter((l) => l.startsWith('[registry]') && l.includes('blob unknown'));
    expect(unknown).toHaveLength(MISSING);
  });
});
