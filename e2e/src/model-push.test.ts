// `ferry model` against registry:2: a Hugging Face-shaped directory pushed as CNCF ModelPack
// (every media type, annotation and config field checked over plain HTTP), pulled back
// byte-identical, pulled by kind; reproducible digests; Hugging Face cache snapshots.
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf, jsonOf, statusNames, treeOf, useCliFixture } from './support/cli-fixture.js';
import { hfDirectory, safetensors } from './support/model-files.js';
import { getJson } from './support/model-writer.js';

/**
 * Waits until every file under `dir` has times more than 2 s old: the digest cache's "racy
 * clean" rule hashes but does not remember a file changed just before it was hashed, so a push
 * right after the files were written leaves no digests.json (on a fast machine).
 */
async function settleTree(dir: string): Promise<void> {
  let newest = 0;
  for (const entry of await readdir(dir, { recursive: true })) {
    const { mtimeMs, ctimeMs } = await lstat(join(dir, entry));
    newest = Math.max(newest, mtimeMs, ctimeMs);
  }
  const wait = newest + 2_200 - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
}

const fx = useCliFixture('anonymous');

const KIND_TYPE: Record<string, string> = {
  'model-00001-of-00002.safetensors': 'application/vnd.cncf.model.weight.v1.raw',
  'model-00002-of-00002.safetensors': 'application/vnd.cncf.model.weight.v1.raw',
  'config.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  'generation_config.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  'model.safetensors.index.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  'special_tokens_map.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  'tokenizer.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  'tokenizer_config.json': 'application/vnd.cncf.model.weight.config.v1.raw',
  LICENSE: 'application/vnd.cncf.model.doc.v1.raw',
  'README.md': 'application/vnd.cncf.model.doc.v1.raw',
  'modeling_tiny.py': 'application/vnd.cncf.model.code.v1.raw',
};

interface ManifestJson {
  artifactType: string;
  config: { mediaType: string; digest: string; size: number };
  layers: {
    mediaType: string;
    digest: string;
    size: number;
    annotations: Record<string, string>;
  }[];
}

describe('ferry model push / pull / inspect (ModelPack)', () => {
  it('publishes a Hugging Face directory as ModelPack, pulls it back byte-identical, and by kind', async () => {
    const model = join(fx.dir, 'tiny-llama');
    await hfDirectory(model);
    await settleTree(model);
    const ref = fx.repo('tiny-llama');
    const pushed = await fx.ok(
      [
        'model',
        'push',
        `${ref}:v1`,
        model,
        '--license',
        'Apache-2.0',
        '--name',
        'tiny-llama',
        '--format',
        'json',
      ],
      { env: { FERRY_CACHE: join(fx.dir, 'ferry-cache') } },
    );
    const result = jsonOf<{ digest: string; model: Record<string, unknown> }>(pushed);
    expect(pushed.stderr).toContain('Skipped 1 dot-file(s) and dot-directories: .git');

    // What the registry holds, read over plain HTTP.
    const repository = ref.slice(fx.host.length + 1);
    const manifest = (await getJson(
      `${fx.reg.url}/v2/${repository}/manifests/v1`,
    )) as unknown as ManifestJson;
    expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    expect(
      Object.fromEntries(
        manifest.layers.map((l) => [l.annotations['org.cncf.model.filepath'], l.mediaType]),
      ),
    ).toEqual(KIND_TYPE);
    for (const layer of manifest.layers) {
      const path = layer.annotations['org.cncf.model.filepath'] ?? '';
      const bytes = await readFile(join(model, path));
      expect(layer.digest).toBe(digestOf(bytes));
      expect(layer.annotations['org.opencontainers.image.title']).toBe(path);
      expect(Object.keys(layer.annotations).sort()).toEqual([
        'org.cncf.model.file.metadata+json',
        'org.cncf.model.filepath',
        'org.opencontainers.image.title',
      ]);
      expect(JSON.parse(layer.annotations['org.cncf.model.file.metadata+json'] ?? '')).toEqual({
        name: path,
        mode: 420,
        uid: 0,
        gid: 0,
        size: bytes.length,
        mtime: '1970-01-01T00:00:00Z',
        typeflag: 48,
      });
    }
    const config = await getJson(`${fx.reg.url}/v2/${repository}/blobs/${manifest.config.digest}`);
    expect(config).toEqual({
      descriptor: { family: 'llama', name: 'tiny-llama', licenses: ['Apache-2.0'] },
      modelfs: { type: 'layers', diffIds: manifest.layers.map((l) => l.digest) },
      config: {
        architecture: 'LlamaForCausalLM',
        format: 'safetensors',
        paramSize: '1m',
        precision: 'bfloat16',
      },
    });
    expect(result.model).toMatchObject({ paramSize: '1m', family: 'llama' });

    // Files of 1 MiB and up are in the digest cache, as after `ferry push`.
    const remembered = await readFile(join(fx.dir, 'ferry-cache', 'digests.json'), 'utf8');
    expect(remembered).toContain(manifest.layers[0]?.digest);

    // The same directory again: the same digest, nothing uploaded.
    const again = await fx.ok([
      'model',
      'push',
      `${ref}:v1`,
      model,
      '--license',
      'Apache-2.0',
      '--name',
      'tiny-llama',
    ]);
    expect(again.stdout).toContain(`Digest: ${result.digest}`);
    expect(
      statusNames(again.stdout, 'Uploaded').filter((n) => !n.startsWith('application/')),
    ).toEqual([]);

    // Pulled back: every file, byte for byte (the .git/ directory was never pushed).
    const out = join(fx.dir, 'out');
    const pulled = await fx.ok(['model', 'pull', `${ref}:v1`, '-o', out]);
    expect(pulled.stdout).toContain('(modelpack, 11 of 11 files)');
    const { '.git/HEAD': _git, ...original } = await treeOf(model);
    expect(await treeOf(out)).toEqual(original);

    // Only the weights: nothing else is fetched.
    const weights = join(fx.dir, 'weights');
    const only = await fx.ok([
      'model',
      'pull',
      `${ref}:v1`,
      '-o',
      weights,
      '--only',
      'weights',
      '--cache-dir',
      join(fx.dir, 'fresh-cache'),
      '-d',
    ]);
    expect(Object.keys(await treeOf(weights)).sort()).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    const blobGets = only.stderr
      .split('\n')
      .filter((line) => /^\[debug\] > GET \S+\/blobs\/sha256:/.test(line));
    // Two weights and the config: no tokenizer, README or code blob.
    expect(blobGets).toHaveLength(3);

    // Again through the same cache: every blob comes from disk, none from the registry.
    const again2 = join(fx.dir, 'weights-again');
    const cached = await fx.ok([
      'model',
      'pull',
      `${ref}:v1`,
      '-o',
      again2,
      '--only',
      'weights',
      '--cache-dir',
      join(fx.dir, 'fresh-cache'),
      '-d',
    ]);
    expect(
      cached.stderr.split('\n').filter((line) => /^\[debug\] > GET \S+\/blobs\/sha256:/.test(line)),
    ).toEqual([]);
    expect(await treeOf(again2)).toEqual(await treeOf(weights));

    // --include with ** over paths.
    const json = join(fx.dir, 'json');
    await fx.ok([
      'model',
      'pull',
      `${ref}:v1`,
      '-o',
      json,
      '--include',
      '**/*.json',
      '--only',
      'config',
    ]);
    expect(Object.keys(await treeOf(json)).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors.index.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);

    // inspect: facts and files, without fetching a weight.
    const inspected = jsonOf<
      Record<string, unknown> & {
        files: { path: string; kind: string; digest: string; size: number }[];
      }
    >(await fx.ok(['model', 'inspect', `${ref}:v1`, '--format', 'json']));
    expect(inspected).toMatchObject({
      reference: `${ref}@${result.digest}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: result.digest,
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      format: 'modelpack',
      model: {
        name: 'tiny-llama',
        family: 'llama',
        format: 'safetensors',
        paramSize: '1m',
        precision: 'bfloat16',
        licenses: ['Apache-2.0'],
      },
    });
    expect(inspected.files.map((f) => [f.path, f.kind])).toContainEqual([
      'modeling_tiny.py',
      'code',
    ]);
    const text = await fx.ok(['model', 'inspect', `${ref}:v1`]);
    expect(text.stdout).toMatch(/Parameters: +1m/);
    expect(text.stdout).toMatch(
      /weights +1\.00 MiB +sha256:[0-9a-f]{12} +model-00001-of-00002\.safetensors/,
    );
  }, 240_000); // eight CLI runs: well over the default under a loaded CI machine

  it('is reproducible, dates only with SOURCE_DATE_EPOCH, and refuses unclassified files', async () => {
    const model = join(fx.dir, 'm');
    await mkdir(model);
    await writeFile(
      join(model, 'model.safetensors'),
      safetensors([{ name: 'w', dtype: 'F16', shape: [8] }]),
    );
    await writeFile(join(model, 'notes.xyz'), 'x');
    const ref = fx.repo('repro');
    const refused = await fx.run(['model', 'push', `${ref}:v1`, model]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"notes.xyz"');
    expect(refused.stderr).toContain('--doc "*.xyz"');
    const dry = jsonOf<{ digest: string; config: { descriptor: Record<string, unknown> } }>(
      await fx.ok([
        'model',
        'push',
        `${ref}:v1`,
        model,
        '--doc',
        '*.xyz',
        '--dry-run',
        '--format',
        'json',
      ]),
    );
    const dated = jsonOf<{ digest: string; config: { descriptor: Record<string, unknown> } }>(
      await fx.ok(
        ['model', 'push', `${ref}:v1`, model, '--doc', '*.xyz', '--dry-run', '--format', 'json'],
        {
          env: { SOURCE_DATE_EPOCH: '1700000000' },
        },
      ),
    );
    expect(dry.config.descriptor.createdAt).toBeUndefined();
    expect(dated.config.descriptor.createdAt).toBe('2023-11-14T22:13:20Z');
    expect(dated.digest).not.toBe(dry.digest);
    // The dry run uploaded nothing: the tag does not exist.
    const missing = await fx.run(['model', 'inspect', `${ref}:v1`]);
    expect(missing.code).toBe(1);
    const pushed = jsonOf<{ digest: string }>(
      await fx.ok(['model', 'push', `${ref}:v1`, model, '--doc', '*.xyz', '--format', 'json']),
    );
    expect(pushed.digest).toBe(dry.digest);
  }, 120_000);

  it('pushes a Hugging Face cache snapshot (a directory of symlinks into blobs/)', async () => {
    const repo = join(fx.dir, 'models--org--tiny');
    const snapshot = join(repo, 'snapshots', '0123abcd');
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(snapshot, { recursive: true });
    const weights = safetensors([{ name: 'w', dtype: 'BF16', shape: [64, 64] }]);
    await writeFile(join(repo, 'blobs', digestOf(weights).slice(7)), weights);
    await writeFile(join(repo, 'blobs', 'cfg'), '{"model_type":"gpt2"}');
    await symlink(`../../blobs/${digestOf(weights).slice(7)}`, join(snapshot, 'model.safetensors'));
    await symlink('../../blobs/cfg', join(snapshot, 'config.json'));
    const ref = fx.repo('snapshot');
    await fx.ok(['model', 'push', `${ref}:v1`, snapshot]);
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', `${ref}:v1`, '-o', out]);
    expect(await readFile(join(out, 'model.safetensors'))).toEqual(weights);
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe('{"model_type":"gpt2"}');
  });
});

describe('ferry model push flags and large files', () => {
  it('puts every flag into the config and the manifest (dry run: nothing uploaded)', async () => {
    const model = join(fx.dir, 'flags');
    await mkdir(model);
    await writeFile(
      join(model, 'model.bin'),
      Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(8)]),
    );
    const result = jsonOf<{ config: unknown; manifest: { annotations: Record<string, string> } }>(
      await fx.ok([
        'model',
        'push',
        `${fx.repo('flags')}:v1`,
        model,
        '--dry-run',
        '--format',
        'json',
        '--name',
        'n',
        '--version',
        '1.2',
        '--family',
        'f',
        '--architecture',
        'transformer',
        '--model-format',
        'gguf',
        '--param-size',
        '8b',
        '--precision',
        'int4',
        '--quantization',
        'q4_k_m',
        '--license',
        'MIT',
        '--license',
        'Apache-2.0',
        '--author',
        'A <a@example.com>',
        '--vendor',
        'V',
        '--title',
        'T',
        '--description',
        'D',
        '--source-url',
        'https://example.com/src',
        '--doc-url',
        'https://example.com/doc',
        '--revision',
        'abc123',
        '--created',
        '2025-02-03T04:05:06Z',
        '-a',
        'org.example.key=value',
      ]),
    );
    expect(result.config).toEqual({
      descriptor: {
        createdAt: '2025-02-03T04:05:06Z',
        authors: ['A <a@example.com>'],
        family: 'f',
        name: 'n',
        docURL: 'https://example.com/doc',
        sourceURL: 'https://example.com/src',
        version: '1.2',
        revision: 'abc123',
        vendor: 'V',
        licenses: ['MIT', 'Apache-2.0'],
        title: 'T',
        description: 'D',
      },
      modelfs: {
        type: 'layers',
        diffIds: [digestOf(Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(8)]))],
      },
      config: {
        architecture: 'transformer',
        format: 'gguf',
        paramSize: '8b',
        precision: 'int4',
        quantization: 'q4_k_m',
      },
    });
    expect(result.manifest.annotations).toEqual({
      'org.example.key': 'value',
      'org.opencontainers.image.created': '2025-02-03T04:05:06Z',
    });
  });

  it('streams a large weight to the registry while it is hashed, as ferry push does', async () => {
    const model = join(fx.dir, 'large');
    await mkdir(model);
    const weights = safetensors([{ name: 'w', dtype: 'BF16', shape: [4096, 2560] }]); // 20 MiB
    await writeFile(join(model, 'model.safetensors'), weights);
    const ref = fx.repo('large');
    const pushed = await fx.ok(['model', 'push', `${ref}:v1`, model, '-d', '--no-digest-cache']);
    // One PATCH with the bytes, then PUT ?digest= once the hash is known.
    expect(pushed.stderr).toMatch(/\[debug\] > PATCH \S+\/blobs\/uploads\//);
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', `${ref}:v1`, '-o', out]);
    // Digests, not bytes: a deep equality of two 20 MiB buffers takes minutes.
    expect(digestOf(await readFile(join(out, 'model.safetensors')))).toBe(digestOf(weights));
  });
});
