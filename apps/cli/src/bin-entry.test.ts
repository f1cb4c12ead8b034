// bin/ferry.js runs dist/bundle/main.js (scripts/bundle.mjs) unless the bundle is missing or
// older than the last `tsc -b` (dist/.tsbuildinfo), so that a checkout rebuilt with tsc alone
// never runs stale code, while an installed package (no .tsbuildinfo) always runs the bundle.
// Checked on a copy of bin/ferry.js beside stand-in entry modules that say which one ran, and
// that it started the buffer pacer (src/buffer-pacer.ts) before running the command.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/ferry.js', import.meta.url));

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-bin-'));
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'dist/bundle'), { recursive: true });
  await copyFile(BIN, join(root, 'bin/ferry.js'));
  await writeFile(join(root, 'package.json'), '{"version":"9.9.9","type":"module"}\n');
  const entry = (name: string) =>
    `export async function run(args) { process.stdout.write('${name} ' + args.join(' ')); return 3; }\n` +
    `export function paceBufferCollection() { process.stdout.write('paced, '); }\n`;
  await writeFile(join(root, 'dist/main.js'), entry('compiled'));
  await writeFile(join(root, 'dist/bundle/main.js'), entry('bundle'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function ferry(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/ferry.js'), ...args], (error, stdout) => {
      resolve({ code: error ? (error.code as number) : 0, stdout });
    });
  });
}

/** Sets a file's modification time, seconds from now. */
async function age(path: string, seconds: number): Promise<void> {
  const when = new Date(Date.now() + seconds * 1000);
  await utimes(join(root, path), when, when);
}

describe('bin/ferry.js entry point', () => {
  it('runs the bundle when it is newer than the last tsc build', async () => {
    await writeFile(join(root, 'dist/.tsbuildinfo'), '{}');
    await age('dist/.tsbuildinfo', -60);
    expect(await ferry('repo', 'tags', 'x')).toEqual({
      code: 3,
      stdout: 'paced, bundle repo tags x',
    });
  });

  it('runs what tsc wrote when the bundle is older than the last tsc build (stale)', async () => {
    await writeFile(join(root, 'dist/.tsbuildinfo'), '{}');
    await age('dist/bundle/main.js', -60);
    expect(await ferry('version')).toEqual({ code: 3, stdout: 'paced, compiled version' });
  });

  it('runs what tsc wrote when there is no bundle', async () => {
    await rm(join(root, 'dist/bundle'), { recursive: true });
    expect(await ferry('version')).toEqual({ code: 3, stdout: 'paced, compiled version' });
  });

  it('runs the bundle in an installed package (no .tsbuildinfo is published)', async () => {
    expect(await ferry('version')).toEqual({ code: 3, stdout: 'paced, bundle version' });
  });

  it('answers --version from package.json without loading either', async () => {
    expect(await ferry('--version')).toEqual({ code: 0, stdout: '9.9.9\n' });
  });
});
