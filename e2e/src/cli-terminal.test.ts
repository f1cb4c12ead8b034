// ferry on a terminal (a pseudo-terminal through `script`), judged by the final screen: progress
// bars are drawn while bytes move and leave nothing behind, status lines printed meanwhile all
// stay, prompts stay where the user typed, and a "no" is a quiet exit 0.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { spawnFerry, sha256 } from './support/cli-fixture.js';
import { ferryInTerminal, screenOf } from './support/terminal.js';
import { startThrottleProxy, type ThrottleProxy } from './support/throttle-proxy.js';

const BIG = 8 * 1024 * 1024;
/** Pulls through the proxy take a second: long enough for bars to be drawn several times. */
const RATE = 8 * 1024 * 1024;
const EMPTY = '44136fa355b3';

let registry: TestRegistry;
let proxy: ThrottleProxy;
let work = '';
let runs = 0;
const big = randomBytes(BIG);
const four = randomBytes(4 * 1024 * 1024);
const twelve = randomBytes(12 * 1024 * 1024);
const small = 'small file\n';

const env = () => ({
  FERRY_CACHE: join(work, `cache-${++runs}`),
  DOCKER_CONFIG: join(work, 'docker'),
});
const terminal = (args: string[], answers?: [string, string][], columns = 80) =>
  ferryInTerminal(args, { cwd: work, env: env(), columns, ...(answers ? { answers } : {}) });

beforeAll(async () => {
  registry = await startRegistry({ mode: 'anonymous' });
  proxy = await startThrottleProxy(Number(registry.host.split(':')[1]), RATE);
  work = await mkdtemp(join(tmpdir(), 'ferry-terminal-'));
  await writeFile(join(work, 'big.bin'), big);
  await writeFile(join(work, 'small.txt'), small);
  await writeFile(join(work, 'four.bin'), four);
  await writeFile(join(work, 'twelve.bin'), twelve);
});

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('on a terminal', () => {
  it('push: every status line stays on screen, no bar is left behind', async () => {
    const repo = `${registry.host}/tty/push`;
    const first = await terminal(['push', `${repo}:v1`, 'big.bin', 'small.txt']);
    expect(first.code, first.transcript).toBe(0);
    // The empty config exists after the first push: the second prints Exists for it, between bars.
    const again = await terminal(['push', `${repo}:v2`, 'big.bin', 'small.txt']);
    expect(again.code, again.transcript).toBe(0);
    for (const [run, verb] of [
      [first, 'Uploaded'],
      [again, 'Exists'],
    ] as const) {
      const screen = screenOf(run.transcript);
      expect(
        screen.filter((line) => /%|Uploading/.test(line)),
        screen.join('\n'),
      ).toEqual([]);
      expect(screen).toEqual(
        expect.arrayContaining([
          `${verb.padEnd(10)} application/vnd.oci.empty.v1+json  ${EMPTY}`,
          `${verb.padEnd(10)} big.bin  ${sha256(big).slice(0, 12)}`,
          `${verb.padEnd(10)} small.txt  ${sha256(small).slice(0, 12)}`,
        ]),
      );
      expect(screen.at(-1)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
    }
  });

  it('pull of a file that takes a second draws a bar, then leaves only the results', async () => {
    const repo = `${registry.host}/tty/pull`;
    const pushed = await spawnFerry(['push', `${repo}:v1`, 'big.bin'], { cwd: work, env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    const slow = `${proxy.host}/tty/pull:v1`;
    const pulled = await terminal(['pull', slow, '-o', 'out']);
    expect(pulled.code, pulled.transcript).toBe(0);
    expect(pulled.transcript).toMatch(/Downloading big\.bin +\[#*\.*\] /);
    const screen = screenOf(pulled.transcript);
    expect(screen).toEqual([
      `Downloaded big.bin  ${sha256(big).slice(0, 12)}`,
      `Pulled [registry] ${slow}`,
      expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/),
    ]);
  });

  it('copy: a status line printed while another blob is still in flight lands above its bar', async () => {
    // Through the proxy both blobs stream at RATE each: the 4 MiB one is done at ~0.5 s and
    // prints its line while the 12 MiB one's bar (drawn since ~0.1 s) has a second to go.
    const repo = `${registry.host}/tty/copy-source`;
    const pushed = await spawnFerry(['push', `${repo}:v1`, 'four.bin', 'twelve.bin'], {
      cwd: work,
      env: env(),
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const copied = await terminal([
      'cp',
      `${proxy.host}/tty/copy-source:v1`,
      `${registry.host}/tty/copy-target:v1`,
    ]);
    expect(copied.code, copied.transcript).toBe(0);
    const transcript = copied.transcript;
    // The line was printed while the other bar was up: a bar drawing comes before and after it.
    const line = transcript.indexOf('Copied     four.bin');
    const bars = [...transcript.matchAll(/Copying twelve\.bin +\[/g)].map((m) => m.index);
    expect(line).toBeGreaterThan(-1);
    expect(bars.some((at) => at < line)).toBe(true);
    expect(bars.some((at) => at > line)).toBe(true);
    const screen = screenOf(transcript);
    expect(
      screen.filter((l) => /%|Copying/.test(l)),
      screen.join('\n'),
    ).toEqual([]);
    expect(screen).toEqual(
      expect.arrayContaining([
        `Copied     four.bin  ${sha256(four).slice(0, 12)}`,
        `Copied     twelve.bin  ${sha256(twelve).slice(0, 12)}`,
      ]),
    );
    expect(screen.at(-1)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);
  });

  it('login keeps its Username: prompt with what was typed; the password is not shown', async () => {
    const config = join(work, 'login-config.json');
    const result = await terminal(
      ['login', registry.host, '--registry-config', config],
      [
        ['Username: ', 'alice\r'],
        ['Password: ', 'not-shown\r'],
      ],
    );
    expect(result.code, result.transcript).toBe(0);
    expect(screenOf(result.transcript)).toEqual([
      'Username: alice',
      'Password:',
      'Login Succeeded',
    ]);
    expect(result.transcript).not.toContain('not-shown');
  });

  it('manifest delete asks naming every tag that goes; "n" deletes nothing and exits 0', async () => {
    const repo = `${registry.host}/tty/delete`;
    const pushed = await spawnFerry(['push', `${repo}:v1,latest,stable`, 'small.txt'], {
      cwd: work,
      env: env(),
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    // Wide enough that the question is one line on the screen.
    const result = await terminal(
      ['manifest', 'delete', `${repo}:latest`],
      [['(y/N) ', 'n\r']],
      300,
    );
    expect(result.code, result.transcript).toBe(0);
    const screen = screenOf(result.transcript, 300).join('\n');
    expect(screen).toMatch(
      /Delete the manifest sha256:[0-9a-f]{64} \(.*:latest\)\? Every tag pointing at it goes too: latest, stable, v1\. \(y\/N\) n\nCancelled: nothing was deleted\.$/,
    );
    expect(screen).not.toContain('Error');
    const tags = await spawnFerry(['repo', 'tags', repo], { cwd: work, env: env() });
    expect(tags.stdout.split('\n').filter(Boolean).sort()).toEqual(['latest', 'stable', 'v1']);
  });
});
