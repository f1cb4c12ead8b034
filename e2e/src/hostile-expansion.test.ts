// A decompression bomb at the CLI (issue 13 item 12): a directory layer of ~120 KB that expands
// to 120 MiB of zeros, published with `ferry blob push`/`manifest push` to a real registry:2.
// `ferry pull` refuses it (exit 1, naming the layer and the flag, nothing written);
// `--allow-large-expansion` lets it through.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, type CliResult } from './support/cli.js';
import { artifactManifest, EMPTY_CONFIG, listTree, tarGz } from './support/hostile-tar.js';

const EXPANDED = 120 * 1024 * 1024;

let reg: TestRegistry;
let base: string;
let ref: string;

const run = (args: string[]): Promise<CliResult> =>
  ferry(args, { env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') } });

beforeAll(async () => {
  reg = await startRegistry({ mode: 'anonymous' });
  base = await mkdtemp(join(tmpdir(), 'ferry-hostile-expansion-'));
  const bomb = tarGz([
    { type: 'dir', name: 'bomb/' },
    { type: 'file', name: 'bomb/zeros', content: Buffer.alloc(EXPANDED) },
  ]);
  expect(bomb.bytes.byteLength).toBeLessThan(200_000);
  const layer = join(base, 'bomb.tar.gz');
  const config = join(base, 'config.json');
  await writeFile(layer, bomb.bytes);
  await writeFile(config, Buffer.from(EMPTY_CONFIG.data, 'base64'));
  for (const file of [layer, config]) {
    const pushed = await run(['blob', 'push', `${reg.host}/hostile/bomb`, file]);
    expect(pushed.code, pushed.stderr).toBe(0);
  }
  const manifest = join(base, 'manifest.json');
  await writeFile(
    manifest,
    artifactManifest([
      {
        digest: bomb.digest,
        size: bomb.bytes.byteLength,
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        annotations: {
          'org.opencontainers.image.title': 'bomb',
          'io.deis.oras.content.unpack': 'true',
          'io.deis.oras.content.digest': bomb.tarDigest,
        },
      },
    ]),
  );
  ref = `${reg.host}/hostile/bomb:v1`;
  const pushed = await run(['manifest', 'push', ref, manifest]);
  expect(pushed.code, pushed.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('a directory layer that expands 1000:1', () => {
  it('is refused: exit 1, names the layer and --allow-large-expansion, writes nothing', async () => {
    const work = await mkdtemp(join(base, 'work-'));
    const out = join(work, 'out');
    await mkdir(out);
    const before = await listTree(work);
    const result = await run(['pull', ref, '-o', out]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('"bomb" expands to more than');
    expect(result.stderr).toContain('--allow-large-expansion');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await listTree(work)).toEqual(before);
  }, 60_000);

  it('is expanded with --allow-large-expansion', async () => {
    const out = join(await mkdtemp(join(base, 'work-')), 'out');
    const result = await run(['pull', ref, '-o', out, '--allow-large-expansion']);
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(join(out, 'bomb', 'zeros'))).size).toBe(EXPANDED);
  }, 60_000);
});
