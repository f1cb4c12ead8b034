// `ferry model` in process against OCI image-layout directories: the CLI wiring (flags, exit codes,
// output) without a registry. The registry paths are covered by e2e/src/model-*.test.ts.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCaptured as ferry } from '../run-captured.js';

let dir: string;
const env = { ...process.env };
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-model-cli-'));
  // The digest cache and download cache stay inside the test's directory.
  process.env.FERRY_CACHE = join(dir, 'cache');
  delete process.env.SOURCE_DATE_EPOCH;
});
afterEach(async () => {
  process.env = { ...env };
  await rm(dir, { recursive: true, force: true });
});

async function model(): Promise<string> {
  const root = join(dir, 'm');
  await mkdir(join(root, '.git'), { recursive: true });
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] } }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  await writeFile(
    join(root, 'model.safetensors'),
    Buffer.concat([length, header, Buffer.alloc(12)]),
  );
  await writeFile(
    join(root, 'config.json'),
    '{"model_type":"gpt2","architectures":["GPT2LMHeadModel"]}',
  );
  await writeFile(join(root, 'README.md'), '# m\n');
  await writeFile(join(root, '.git', 'HEAD'), 'x');
  return root;
}

describe('ferry model (OCI layout)', () => {
  it('pushes, inspects and pulls by kind', async () => {
    const root = await model();
    const layout = join(dir, 'layout');
    const pushed = await ferry(
      'model',
      'push',
      `${layout}:v1`,
      root,
      '--oci-layout',
      '--format',
      'json',
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain('Skipped 1 dot-file(s) and dot-directories: .git');
    const result = JSON.parse(pushed.stdout) as {
      digest: string;
      artifactType: string;
      model: unknown;
    };
    expect(result.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(result.model).toEqual({
      family: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      format: 'safetensors',
      paramSize: '6',
      precision: 'float16',
    });

    const inspected = await ferry('model', 'inspect', `${layout}:v1`, '--oci-layout');
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/^Model format: +modelpack/m);
    expect(inspected.stdout).toMatch(/^docs +4 B +sha256:[0-9a-f]{12} +README\.md$/m);

    const out = join(dir, 'out');
    const pulled = await ferry(
      'model',
      'pull',
      `${layout}:v1`,
      '--oci-layout',
      '-o',
      out,
      '--only',
      'docs,config',
    );
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'config.json']);
    expect(await readFile(join(out, 'README.md'), 'utf8')).toBe('# m\n');
    expect(pulled.stdout).toContain(`Digest: ${result.digest}`);
  });

  it('exits 1 naming unclassified files, 2 for an unknown kind or a digest to push to', async () => {
    const root = await model();
    await writeFile(join(root, 'blob.qqq'), 'x');
    const layout = join(dir, 'layout');
    const unclassified = await ferry('model', 'push', `${layout}:v1`, root, '--oci-layout');
    expect(unclassified.code).toBe(1);
    expect(unclassified.stderr).toContain('"blob.qqq"');
    // Nothing was created for a push that failed.
    await expect(readdir(layout)).rejects.toMatchObject({ code: 'ENOENT' });

    const kind = await ferry(
      'model',
      'pull',
      `${layout}:v1`,
      '--oci-layout',
      '--only',
      'weights,tokenizers',
    );
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('--only "tokenizers"');

    const digest = await ferry(
      'model',
      'push',
      `localhost:5000/m@sha256:${'a'.repeat(64)}`,
      root,
      '--code',
      '*.qqq',
    );
    expect(digest.code).toBe(2);
    expect(digest.stderr).toContain('push to a tag');
  });
});
