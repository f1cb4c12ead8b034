// `ferry pull` end to end: into a directory, directories unpacked, --include, -k, -o - (binary).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  MANIFEST,
  digestLine,
  digestOf,
  jsonOf,
  linesOf,
  sha256,
  statusNames,
  treeOf,
  type CliFixture,
} from './cli-fixture.js';
import { writeInputs } from './cli-fixture-push.js';

interface PulledFile {
  path: string;
  title: string;
  mediaType: string;
  digest: string;
  size: number;
}

export function pullTests(fx: CliFixture): void {
  it('pulls every file into -o dir, unpacking directories; --format json lists them', async () => {
    const { text } = await writeInputs(fx);
    const repo = fx.repo('pull');
    const pushed = await fx.ok(['push', `${repo}:v1`, 'a.txt:text/plain', 'data']);
    const digest = digestLine(pushed);

    const json = await fx.run(['pull', `${repo}:v1`, '-o', 'out', '--format', 'json']);
    const result = jsonOf<{ reference: string; digest: string; files: PulledFile[] }>(json);
    expect(result.reference).toBe(`${repo}@${digest}`);
    expect(result.digest).toBe(digest);
    const files = [...result.files].sort((a, b) => a.title.localeCompare(b.title));
    expect(files.map((f) => f.title)).toEqual(['a.txt', 'data']);
    expect(files[0]).toMatchObject({
      path: join(fx.dir, 'out', 'a.txt'),
      mediaType: 'text/plain',
      digest: digestOf(text),
      size: Buffer.byteLength(text),
    });
    expect(files[1]?.path).toBe(join(fx.dir, 'out', 'data'));
    expect(files[1]?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(files[1]?.size).toBeGreaterThan(0);

    // The directory comes back file for file, byte for byte.
    const expected = await treeOf(fx.dir);
    expect(await treeOf(join(fx.dir, 'out'))).toEqual({
      'a.txt': expected['a.txt'],
      'data/y.txt': expected['data/y.txt'],
      'data/sub/x.bin': expected['data/sub/x.bin'],
    });

    const some = await fx.ok(['pull', `${repo}:v1`, '--include', '*.txt', '-o', 'some']);
    expect(linesOf(some.stdout)).toEqual([
      `Downloaded a.txt  ${sha256(text).slice(0, 12)}`,
      `Pulled [registry] ${repo}:v1`,
      `Digest: ${digest}`,
    ]);
    expect(await treeOf(join(fx.dir, 'some'))).toEqual({ 'a.txt': sha256(text) });

    // Pushing what was pulled (new mtimes, unpacked anew) gives the same artifact back.
    const again = await fx.ok(['push', `${repo}:v2`, 'a.txt:text/plain', 'data'], {
      cwd: join(fx.dir, 'out'),
    });
    expect(digestLine(again)).toBe(digest);
    expect(statusNames(again.stdout, 'Uploaded')).toEqual([MANIFEST]);
  });

  it('-k refuses to overwrite an existing file and leaves it as it was', async () => {
    const { text } = await writeInputs(fx);
    const repo = fx.repo('keep');
    await fx.ok(['push', `${repo}:v1`, 'a.txt']);
    await fx.ok(['pull', `${repo}:v1`, '-o', 'out']);
    const local = join(fx.dir, 'out', 'a.txt');
    await writeFile(local, 'local edits\n');

    const kept = await fx.run(['pull', `${repo}:v1`, '-o', 'out', '-k']);
    expect(kept.code).toBe(1);
    expect(kept.stdout).toBe('');
    expect(kept.stderr).toMatch(/^Error: .*a\.txt.*overwrite/);
    expect(await readFile(local, 'utf8')).toBe('local edits\n');

    // Without -k the pulled file replaces it.
    await fx.ok(['pull', `${repo}:v1`, '-o', 'out']);
    expect(await readFile(local, 'utf8')).toBe(text);
  });

  it('-o - streams one binary file to stdout; two files without --include is a usage error', async () => {
    const big = randomBytes(1024 * 1024);
    await fx.write('big.bin', big);
    await fx.write('small.txt', 'small\n');
    const repo = fx.repo('stdout');
    await fx.ok(['push', `${repo}:v1`, 'big.bin:application/octet-stream', 'small.txt']);

    const streamed = await fx.ok(['pull', `${repo}:v1`, '--include', 'big.*', '-o', '-']);
    expect(streamed.bytes.length).toBe(big.length);
    expect(sha256(streamed.bytes)).toBe(sha256(big));

    const two = await fx.run(['pull', `${repo}:v1`, '-o', '-']);
    expect(two.code).toBe(2);
    expect(two.stdout).toBe('');
    expect(linesOf(two.stderr)[0]).toBe(
      'Error: -o - streams exactly one file, but 2 match; narrow it with --include <glob>',
    );
  });
}
