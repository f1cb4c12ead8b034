// Errors name what the user gave (never a temporary file ferry made) and say what to do, with
// the README's exit codes: 2 for a command line that cannot work as written, 1 for a failure.
// What needs registry:2 (missing blobs, an unwritable directory as another user) is in
// e2e/src/cli-user-errors.test.ts.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFileError, withoutTemporaryNames } from './file-errors.js';
import { run } from './main.js';
import { runCaptured } from './run-captured.js';

let dir = '';
let cwd = '';

beforeAll(async () => {
  cwd = process.cwd();
  dir = await mkdtemp(join(tmpdir(), 'ferry-errors-'));
  process.chdir(dir);
  await writeFile('afile', 'not a directory\n');
  await writeFile('hello.txt', 'hello\n');
  expect((await runCaptured('push', '--oci-layout', 'layout:v1', 'hello.txt')).code).toBe(0);
}, 60_000); // the first push loads the artifact code: slow on a machine busy with e2e runs

afterAll(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

/** Runs ferry in-process, answering its y/N question with `answer`. */
async function answering(answer: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const asked: string[] = [];
  const code = await run(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
  });
  return { code, stdout, stderr, asked };
}

describe('output paths are checked against what the user typed', () => {
  it('-o naming a file: exit 2, says it is a file and what to give instead', async () => {
    const result = await runCaptured('pull', '--oci-layout', 'layout:v1', '-o', 'afile');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'Error: -o afile is a file, not a directory; name a directory to write into (or -o - to stream one file to stdout)',
    );
    expect(result.stderr).not.toMatch(/EEXIST|mkdir/);
  });

  it('-o afile/sub (ENOTDIR): exit 2, names the file in the way', async () => {
    const result = await runCaptured('pull', '--oci-layout', 'layout:v1', '-o', 'afile/sub');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: -o afile/sub: ${join(dir, 'afile')} is a file, so it cannot hold a directory; name another directory`,
    );
    expect(result.stderr).not.toContain('ENOTDIR');
  });

  it('bottle pull -o naming a file: exit 2 before any request', async () => {
    const result = await runCaptured(
      'bottle',
      'pull',
      'jq',
      '-o',
      'afile',
      '--registry',
      '127.0.0.1:9',
    );
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'Error: -o afile is a file, not a directory; name a directory to write into',
    );
  });

  it('--export-manifest afile/m.json: exit 2, names the file, not a missing directory', async () => {
    const result = await runCaptured(
      'push',
      '--oci-layout',
      'layout:v2',
      'hello.txt',
      '--export-manifest',
      'afile/m.json',
    );
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: --export-manifest afile/m.json: ${join(dir, 'afile')} is a file, not a directory; name a file in an existing directory`,
    );
    // Nothing was pushed: the check comes before the layout is written.
    const tags = await runCaptured('repo', 'tags', '--oci-layout', 'layout');
    expect(tags.stdout).toBe('v1\n');
  });

  it('blob fetch -o into a missing directory: exit 2, says to create it', async () => {
    const result = await runCaptured(
      'blob',
      'fetch',
      '--oci-layout',
      `layout@sha256:${'0'.repeat(64)}`,
      '-o',
      'missing/b.bin',
    );
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: --output missing/b.bin: the directory ${join(dir, 'missing')} does not exist; create it first (mkdir -p ${join(dir, 'missing')})`,
    );
  });

  it('a file-system error on a temporary file names the final file instead', () => {
    const error = Object.assign(
      new Error("EACCES: permission denied, open '/out/.hello.txt.ferry-96267b0581b3.partial'"),
      {
        code: 'EACCES',
        syscall: 'open',
        path: '/out/.hello.txt.ferry-96267b0581b3.partial',
      },
    );
    expect(describeFileError(error)).toEqual({
      message: 'cannot write /out/hello.txt: permission denied',
      hint: 'choose a place you can write, or change the permissions of /out/hello.txt',
    });
    expect(withoutTemporaryNames('/o/.d.ferry-1234-5678.partial/x/.y.ferry-ab.partial')).toBe(
      '/o/d/x/y',
    );
  });
});

// Node 20's recursive mkdir never settles under /proc (ENOENT for the new directory, EEXIST for
// /proc, for ever): each of these commands hung until killed.
describe.skipIf(process.platform !== 'linux' || !existsSync('/proc/self'))(
  'directories that cannot be made (under /proc) fail at once, named',
  () => {
    const refused = (path: string) =>
      `cannot create the directory ${path}: /proc exists, but its file system does not let /proc/ferry-test be made in it; choose a directory elsewhere`;

    it('pull -o /proc/…: exit 1, names the directory', async () => {
      const result = await runCaptured(
        'pull',
        '--oci-layout',
        'layout:v1',
        '-o',
        '/proc/ferry-test/out',
      );
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(`Error: ${refused('/proc/ferry-test/out')}`);
    }, 5000);

    it('pull --cache-dir /proc/…: warns, names it, and pulls without a cache', async () => {
      const result = await runCaptured(
        'pull',
        '--oci-layout',
        'layout:v1',
        '-o',
        'cacheless',
        '--cache-dir',
        '/proc/ferry-test/cache',
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(
        `Warning: no download cache (${refused('/proc/ferry-test/cache')}); downloads will not resume across runs`,
      );
      expect(await readFile(join('cacheless', 'hello.txt'), 'utf8')).toBe('hello\n');
    }, 5000);

    it('cp --to-oci-layout /proc/…: exit 1, names the layout directory', async () => {
      const result = await runCaptured(
        'cp',
        '--from-oci-layout',
        'layout:v1',
        '--to-oci-layout',
        '/proc/ferry-test/layout:v1',
      );
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(`Error: ${refused('/proc/ferry-test/layout')}`);
    }, 5000);
  },
);

describe('references', () => {
  it('a malformed reference exits 2 (a usage error), with the syntax as a hint', async () => {
    const result = await runCaptured('resolve', 'localhost:5000/Upper/case:v1');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: invalid reference "localhost:5000/Upper/case:v1": repository name must be lowercase\n' +
        'Hint: References look like registry/repository[:tag][@digest], e.g. localhost:5000/models/llama:v1\n',
    );
  });

  it('cp ./layout:v1 suggests --from-oci-layout (and --to-oci-layout for the destination)', async () => {
    const from = await runCaptured('cp', './layout:v1', 'localhost:5000/x/y:v1');
    expect(from.code).toBe(2);
    expect(from.stderr.split('\n')[0]).toBe(
      'Error: "./layout:v1" is a path, not a registry reference (registry/repository:tag); for an OCI image layout directory add --from-oci-layout',
    );
    const to = await runCaptured('cp', '--from-oci-layout', 'layout:v1', './copy:v1');
    expect(to.code).toBe(2);
    expect(to.stderr.split('\n')[0]).toMatch(/"\.\/copy:v1" is a path.*add --to-oci-layout$/);
    // A bare name that is a layout directory here is recognised too.
    const bare = await runCaptured('resolve', 'layout:v1');
    expect(bare.code).toBe(2);
    expect(bare.stderr.split('\n')[0]).toMatch(/"layout:v1" is a path.*add --oci-layout$/);
  });
});

describe('login', () => {
  let server: Server;
  let host = '';
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(401, {
        'www-authenticate': 'Basic realm="test"',
        'content-type': 'application/json',
      });
      response.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => void server.close());

  it('a refused login says so and what to check, not "log in: ferry login"', async () => {
    const config = join(dir, 'config.json');
    const result = await runCaptured(
      'login',
      host,
      '-u',
      'alice',
      '-p',
      'wrong',
      '--plain-http',
      '--registry-config',
      config,
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => !line.startsWith('Warning:'));
    expect(lines[0]).toBe(
      `Error: ${host} refused the password for user "alice"; nothing was stored`,
    );
    expect(lines[1]).toMatch(/^Hint: check the username and password/);
    expect(result.stderr).not.toContain('ferry login');
    expect(await readdir(dir)).not.toContain('config.json');
  });
});

describe('manifest delete says what goes with the manifest', () => {
  it('lists every tag pointing at it; "no" exits 0 and deletes nothing', async () => {
    expect((await runCaptured('tag', '--oci-layout', 'layout:v1', 'latest', 'stable')).code).toBe(
      0,
    );
    const refused = await answering('n', 'manifest', 'delete', '--oci-layout', 'layout:v1');
    expect(refused.code).toBe(0);
    expect(refused.asked).toHaveLength(1);
    expect(refused.asked[0]).toMatch(
      /^Delete the manifest sha256:[0-9a-f]{64} \(layout:v1\)\? Every tag pointing at it goes too: v1, latest, stable\. \(y\/N\) $/,
    );
    expect(refused.stderr).toBe('Cancelled: nothing was deleted.\n');
    expect(refused.stderr).not.toContain('Error');
    expect(refused.stdout).toBe('');
    const tags = await runCaptured('repo', 'tags', '--oci-layout', 'layout');
    expect(tags.stdout.split('\n').filter(Boolean).sort()).toEqual(['latest', 'stable', 'v1']);

    const deleted = await answering('y', 'manifest', 'delete', '--oci-layout', 'layout:stable');
    expect(deleted.code).toBe(0);
    expect(deleted.asked[0]).toContain('Every tag pointing at it goes too: stable, latest, v1.');
    expect(deleted.stdout).toMatch(/^Deleted \[oci-layout\] layout:stable\nDigest: sha256:/);
    expect((await runCaptured('repo', 'tags', '--oci-layout', 'layout')).stdout).toBe('');
  });

  it('without a terminal and without --force it refuses (exit 2) after naming the tags', async () => {
    expect((await runCaptured('push', '--oci-layout', 'layout:v9', 'hello.txt')).code).toBe(0);
    const result = await runCaptured('manifest', 'delete', '--oci-layout', 'layout:v9');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(
      /goes too: v9\. Refusing without --force when not interactive\.$/,
    );
  });
});
