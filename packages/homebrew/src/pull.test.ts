// pullBottles from memory targets that pushBottles filled: the bottle file's bytes and name,
// the cache of a second pull, extraction, dependencies, and what a corrupt or missing bottle
// leaves behind (nothing at the final path, no partial file).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeDigest } from '@ferry/oci';
import { beforeEach, describe, expect, it } from 'vitest';
import { readBottleFiles } from './inputs.js';
import { pullBottles, type PullBottlesOptions } from './pull.js';
import { pushBottles } from './push.js';
import { MemoryRegistry } from './testing/memory-registry.js';
import {
  dir,
  TAB_LINUX,
  TAB_MAC,
  usePushHarness,
  writeBottleJson,
} from './testing/push-harness.js';

usePushHarness();

let registry: MemoryRegistry;
beforeEach(() => {
  registry = new MemoryRegistry();
});

/** Pushes bottles of `name` for macOS and Linux to ghcr.io/homebrew/core/<name>. */
async function publish(name: string, version = '1.0', tab: Record<string, unknown> = {}) {
  const { jsonPath } = await writeBottleJson({
    fullName: name,
    version,
    rootUrl: 'https://ghcr.io/v2/homebrew/core',
    tags: {
      arm64_sequoia: { tab: { ...TAB_MAC, ...tab } },
      x86_64_linux: { tab: { ...TAB_LINUX, ...tab } },
    },
  });
  await pushBottles(await readBottleFiles([jsonPath]), {
    openTarget: (host, repository) => registry.open(`${host}/${repository}`),
  });
  return readFile(join(dir, `${name}--${version}.x86_64_linux.bottle.tar.gz`));
}

async function pull(formulas: string[], options: Partial<PullBottlesOptions> = {}) {
  const outputDir = options.outputDir ?? (await mkdtemp(join(dir, 'out-')));
  const pulled = await pullBottles({
    formulas,
    hostTag: 'x86_64_linux',
    outputDir,
    openTarget: (repository) => registry.get(`ghcr.io/${repository}`),
    ...options,
  });
  return { pulled, outputDir };
}

describe('pullBottles from memory targets', () => {
  it('writes the host bottle under its Homebrew name, byte for byte, with its digest', async () => {
    const tarball = await publish('foo');
    const { pulled, outputDir } = await pull(['foo']);
    const file = join(outputDir, 'foo--1.0.x86_64_linux.bottle.tar.gz');
    expect(await readFile(file)).toEqual(tarball);
    expect(pulled).toEqual([
      expect.objectContaining({
        formula: 'foo',
        repository: 'homebrew/core/foo',
        imageTag: '1.0',
        bottleTag: 'x86_64_linux',
        path: file,
        digest: computeDigest(tarball),
        size: tarball.byteLength,
        cached: false,
        dependency: false,
      }),
    ]);
    expect(await readdir(outputDir)).toEqual(['foo--1.0.x86_64_linux.bottle.tar.gz']);
  });

  it('chooses the newest version tag when none is given', async () => {
    await publish('foo', '1.0');
    const newer = await publish('foo', '1.10');
    const { pulled } = await pull(['foo']);
    expect(pulled[0]?.imageTag).toBe('1.10');
    expect(pulled[0]?.digest).toBe(computeDigest(newer));
  });

  it('a second pull finds the file with the right digest and downloads nothing', async () => {
    await publish('foo');
    const { outputDir } = await pull(['foo']);
    const target = registry.get('ghcr.io/homebrew/core/foo');
    target.calls.length = 0;
    const { pulled } = await pull(['foo'], { outputDir });
    expect(pulled[0]?.cached).toBe(true);
    expect(target.calls.filter((c) => c === `fetch ${pulled[0]?.digest}`)).toEqual([]);
  });

  it('extracts the bottle into a Cellar-like directory', async () => {
    await publish('foo');
    const cellar = await mkdtemp(join(dir, 'cellar-'));
    const { pulled } = await pull(['foo'], { extractDir: cellar });
    expect(pulled[0]?.extractedTo).toBe(join(cellar, 'foo'));
    expect(await readFile(join(cellar, 'foo', '1.0', 'bin', 'foo'), 'utf8')).toBe(
      '#!/bin/sh\necho hi\n',
    );
  });

  it('follows runtime dependencies from the tab, each once', async () => {
    const bar = await publish('bar', '2.0');
    await publish('foo', '1.0', {
      runtime_dependencies: [{ full_name: 'bar', version: '2.0', declared_directly: true }],
    });
    const { pulled, outputDir } = await pull(['foo', 'bar'], { withDeps: true });
    expect(pulled.map((p) => `${p.formula}:${p.imageTag}`).sort()).toEqual(['bar:2.0', 'foo:1.0']);
    expect(await readFile(join(outputDir, 'bar--2.0.x86_64_linux.bottle.tar.gz'))).toEqual(bar);
  });

  it('refuses bytes that do not match the layer digest, leaving no file at all', async () => {
    const tarball = await publish('foo');
    registry.get('ghcr.io/homebrew/core/foo').serveWrongBytes.add(computeDigest(tarball));
    const outputDir = await mkdtemp(join(dir, 'out-'));
    await expect(pull(['foo'], { outputDir })).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('a version that is not there is ERR_NOT_FOUND; a repository without tags says so', async () => {
    await publish('foo');
    await expect(pull(['foo'], { version: '9.9' })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    });
    registry.open('ghcr.io/homebrew/core/empty');
    await expect(pull(['empty'])).rejects.toMatchObject({
      code: 'ERR_BOTTLE_NOT_FOUND',
      message: expect.stringContaining('has no version tags'),
    });
  });
});

// Node 20's recursive mkdir never settles under /proc: these pulls hung for ever.
describe.skipIf(process.platform !== 'linux' || !existsSync('/proc/self'))(
  'pullBottles into a directory under /proc',
  () => {
    it('fails at once, naming the output directory', async () => {
      await expect(pull(['foo'], { outputDir: '/proc/ferry-test/out' })).rejects.toThrow(
        /^cannot create the directory \/proc\/ferry-test\/out: /,
      );
    }, 1000);

    it('fails at once, naming the --extract directory', async () => {
      await expect(pull(['foo'], { extractDir: '/proc/ferry-test/cellar' })).rejects.toThrow(
        /^cannot create the directory \/proc\/ferry-test\/cellar: /,
      );
    }, 1000);
  },
);
