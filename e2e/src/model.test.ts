// `ferry model` against registry:2: a Hugging Face-shaped directory pushed as CNCF ModelPack
// (every media type, annotation and config field checked over plain HTTP), pulled back
// byte-identical, pulled by kind; and pulls of artifacts laid out as modctl (cnai), KitOps and
// Docker Model Runner write them, uploaded here with plain requests from their media types.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from './support/cli.js';
import { digestOf, jsonOf, statusNames, treeOf, useCliFixture } from './support/cli-fixture.js';
import { getJson, putManifest, uploadBlob } from './support/model-writer.js';

const fx = useCliFixture('anonymous');

function safetensors(tensors: { name: string; dtype: string; shape: number[] }[]): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(offset);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  return Buffer.concat([length, json, data]);
}

/** Sharded safetensors + index, config.json, tokenizer files, README, LICENSE, a .py, a .git/. */
async function hfDirectory(root: string): Promise<void> {
  await mkdir(join(root, '.git'), { recursive: true });
  await writeFile(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  await writeFile(
    join(root, 'model-00001-of-00002.safetensors'),
    safetensors([{ name: 'embed', dtype: 'BF16', shape: [1024, 512] }]),
  );
  await writeFile(
    join(root, 'model-00002-of-00002.safetensors'),
    safetensors([
      { name: 'lm_head', dtype: 'BF16', shape: [1024, 512] },
      { name: 'norm', dtype: 'F32', shape: [512] },
    ]),
  );
  await writeFile(
    join(root, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: { total_size: 2 * 1024 * 512 * 2 + 2048 },
      weight_map: {
        embed: 'model-00001-of-00002.safetensors',
        lm_head: 'model-00002-of-00002.safetensors',
        norm: 'model-00002-of-00002.safetensors',
      },
    }),
  );
  await writeFile(
    join(root, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'bfloat16',
    }),
  );
  await writeFile(join(root, 'generation_config.json'), '{"max_length":64}');
  await writeFile(join(root, 'tokenizer.json'), '{"version":"1.0","model":{"type":"BPE"}}');
  await writeFile(join(root, 'tokenizer_config.json'), '{"bos_token":"<s>"}');
  await writeFile(join(root, 'special_tokens_map.json'), '{"eos_token":"</s>"}');
  await writeFile(join(root, 'README.md'), '# tiny llama\n');
  await writeFile(join(root, 'LICENSE'), 'Apache License 2.0\n');
  await writeFile(join(root, 'modeling_tiny.py'), 'import torch\n');
}

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
    const ref = fx.repo('tiny-llama');
    const pushed = await fx.ok([
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
    ]);
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
      expect(layer.annotations['org.cncf.model.file.mediatype.untested']).toBe('false');
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
  });

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
  });

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

/** A tar (optionally gzipped) of `paths` under `cwd`, reproducible, made by the system tar. */
async function tarOf(
  cwd: string,
  paths: string[],
  gzip = false,
  absoluteNames = false,
): Promise<Buffer> {
  const file = join(cwd, `.layer-${Math.random().toString(16).slice(2)}.tar`);
  const result = await runCommand(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=1000',
      '--group=0',
      '--numeric-owner',
      ...(absoluteNames ? ['-P'] : []),
      gzip ? '-czf' : '-cf',
      file,
      ...paths,
    ],
    { cwd },
  );
  if (result.code !== 0) throw new Error(result.stderr);
  return readFile(file);
}

describe('ferry model pull of other tools’ layouts', () => {
  it('pulls a modctl (cnai) artifact: raw and tar layers at org.cnai.model.filepath', async () => {
    const repository = `others/cnai-${Date.now()}`;
    const src = join(fx.dir, 'src');
    await mkdir(join(src, 'tok'), { recursive: true });
    const weights = safetensors([{ name: 'w', dtype: 'F16', shape: [128, 128] }]);
    await writeFile(join(src, 'model.safetensors'), weights);
    await writeFile(join(src, 'tok', 'tokenizer.json'), '{"t":1}');
    const up = (bytes: Buffer, mediaType: string, path: string) =>
      uploadBlob(fx.reg.url, repository, bytes, mediaType, { 'org.cnai.model.filepath': path });
    const layers = [
      await up(weights, 'application/vnd.cnai.model.weight.v1.raw', 'model.safetensors'),
      await up(
        await tarOf(src, ['tok/tokenizer.json']),
        'application/vnd.cnai.model.weight.config.v1.tar',
        'tok/tokenizer.json',
      ),
    ];
    const config = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from(
        JSON.stringify({
          descriptor: { family: 'qwen2', name: 'q' },
          config: { format: 'safetensors', paramSize: '16k' },
          modelfs: { type: 'layers', diffIds: [] },
        }),
      ),
      'application/vnd.cnai.model.config.v1+json',
    );
    await putManifest(fx.reg.url, repository, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cnai.model.manifest.v1+json',
      config,
      layers,
    });
    const ref = `${fx.host}/${repository}:v1`;
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', ref, '-o', out]);
    expect(await treeOf(out)).toEqual({
      'model.safetensors': digestOf(weights).slice(7),
      'tok/tokenizer.json': digestOf('{"t":1}').slice(7),
    });
    const inspected = jsonOf<{ format: string; model: Record<string, unknown> }>(
      await fx.ok(['model', 'inspect', ref, '--format', 'json']),
    );
    expect(inspected.format).toBe('cnai');
    expect(inspected.model).toEqual({
      family: 'qwen2',
      name: 'q',
      format: 'safetensors',
      paramSize: '16k',
    });
  });

  it('pulls a KitOps ModelKit: tar layers unpacked at their Kitfile paths; --only by kind', async () => {
    const repository = `others/kit-${Date.now()}`;
    const src = join(fx.dir, 'kit');
    await mkdir(join(src, 'models'), { recursive: true });
    await mkdir(join(src, 'src', 'lib'), { recursive: true });
    await mkdir(join(src, 'data'), { recursive: true });
    await writeFile(
      join(src, 'models', 'tiny.gguf'),
      Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(5000, 7)]),
    );
    await writeFile(join(src, 'src', 'train.py'), 'print("train")\n');
    await writeFile(join(src, 'src', 'lib', 'util.py'), 'X = 1\n');
    await writeFile(join(src, 'data', 'train.csv'), 'a,b\n1,2\n');
    await writeFile(join(src, 'README.md'), '# kit\n');
    const kitfile = {
      manifestVersion: '1.0.0',
      package: { name: 'tiny-kit', version: '1.0.0', license: 'MIT', authors: ['Jozu'] },
      model: { name: 'tiny', path: 'models/tiny.gguf', framework: 'gguf' },
      code: [{ path: 'src' }],
      datasets: [{ name: 'train', path: 'data/train.csv' }],
      docs: [{ path: 'README.md' }],
    };
    // Older kit: no filepath annotations, layers in Kitfile order.
    const layers = [
      await uploadBlob(
        fx.reg.url,
        repository,
        await tarOf(src, ['models/tiny.gguf']),
        'application/vnd.kitops.modelkit.model.v1.tar',
      ),
      await uploadBlob(
        fx.reg.url,
        repository,
        await tarOf(src, ['src'], true),
        'application/vnd.kitops.modelkit.code.v1.tar+gzip',
      ),
      await uploadBlob(
        fx.reg.url,
        repository,
        await tarOf(src, ['data/train.csv']),
        'application/vnd.kitops.modelkit.dataset.v1.tar',
        {
          'org.cncf.model.filepath': 'data/train.csv',
        },
      ),
      await uploadBlob(
        fx.reg.url,
        repository,
        await tarOf(src, ['README.md']),
        'application/vnd.kitops.modelkit.docs.v1.tar',
      ),
    ];
    const config = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from(JSON.stringify(kitfile)),
      'application/vnd.kitops.modelkit.config.v1+json',
    );
    await putManifest(fx.reg.url, repository, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers,
      annotations: { 'ml.kitops.modelkit.cli-version': '1.0.0' },
    });
    const ref = `${fx.host}/${repository}:v1`;
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', ref, '-o', out]);
    const {
      'models/tiny.gguf': g,
      'src/train.py': t,
      'src/lib/util.py': u,
      'data/train.csv': c,
      'README.md': r,
    } = await treeOf(src);
    expect(await treeOf(out)).toEqual({
      'models/tiny.gguf': g,
      'src/train.py': t,
      'src/lib/util.py': u,
      'data/train.csv': c,
      'README.md': r,
    });
    const code = join(fx.dir, 'code');
    await fx.ok(['model', 'pull', ref, '-o', code, '--only', 'code,docs']);
    expect(Object.keys(await treeOf(code)).sort()).toEqual([
      'README.md',
      'src/lib/util.py',
      'src/train.py',
    ]);
    const inspected = jsonOf<{
      format: string;
      model: Record<string, unknown>;
      files: { path: string; kind: string }[];
    }>(await fx.ok(['model', 'inspect', ref, '--format', 'json']));
    expect(inspected.format).toBe('kitops');
    expect(inspected.model).toEqual({
      name: 'tiny-kit',
      version: '1.0.0',
      format: 'gguf',
      licenses: ['MIT'],
      authors: ['Jozu'],
    });
    expect(inspected.files.map((f) => [f.path, f.kind])).toEqual([
      ['models/tiny.gguf', 'weights'],
      ['src', 'code'],
      ['data/train.csv', 'datasets'],
      ['README.md', 'docs'],
    ]);
  });

  it('refuses a KitOps layer whose tar climbs out of the output directory, writing nothing', async () => {
    const repository = `others/kit-evil-${Date.now()}`;
    const src = join(fx.dir, 'evil', 'inner');
    await mkdir(src, { recursive: true });
    await writeFile(join(fx.dir, 'evil', 'escape.txt'), 'pwned');
    // -P: keep the leading ../ that GNU tar would strip.
    const tar = await tarOf(src, ['../escape.txt'], false, true);
    const layer = await uploadBlob(
      fx.reg.url,
      repository,
      tar,
      'application/vnd.kitops.modelkit.docs.v1.tar',
      {
        'org.cncf.model.filepath': 'README.md',
      },
    );
    const config = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from('{"docs":[{"path":"README.md"}]}'),
      'application/vnd.kitops.modelkit.config.v1+json',
    );
    await putManifest(fx.reg.url, repository, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: [layer],
    });
    const out = join(fx.dir, 'o', 'out');
    const result = await fx.run(['model', 'pull', `${fx.host}/${repository}:v1`, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unsafe archive entry .*\.\./);
    expect(await treeOf(join(fx.dir, 'o')).catch(() => ({}))).toEqual({});
  });

  it('pulls a Docker Model Runner model: one file per layer, named by media type', async () => {
    const repository = `others/docker-${Date.now()}`;
    const gguf = Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(3000, 1)]);
    const license = Buffer.from('MIT License\n');
    const layers = [
      await uploadBlob(fx.reg.url, repository, gguf, 'application/vnd.docker.ai.gguf.v3'),
      await uploadBlob(fx.reg.url, repository, license, 'application/vnd.docker.ai.license'),
    ];
    const config = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from(
        JSON.stringify({
          config: {
            format: 'gguf',
            quantization: 'Q4_K_M',
            parameters: '1.1B',
            architecture: 'llama',
            size: '3KB',
          },
          descriptor: { created: '2025-01-01T00:00:00Z' },
          rootfs: { type: 'rootfs', diff_ids: [] },
        }),
      ),
      'application/vnd.docker.ai.model.config.v0.1+json',
    );
    await putManifest(fx.reg.url, repository, 'latest', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers,
    });
    const ref = `${fx.host}/${repository}:latest`;
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', ref, '-o', out]);
    expect(await treeOf(out)).toEqual({
      'model.gguf': digestOf(gguf).slice(7),
      LICENSE: digestOf(license).slice(7),
    });
    const inspected = jsonOf<{ format: string; model: Record<string, unknown> }>(
      await fx.ok(['model', 'inspect', ref, '--format', 'json']),
    );
    expect(inspected.format).toBe('docker');
    expect(inspected.model).toEqual({
      format: 'gguf',
      quantization: 'Q4_K_M',
      paramSize: '1.1B',
      architecture: 'llama',
      createdAt: '2025-01-01T00:00:00Z',
    });
    const weightsOnly = join(fx.dir, 'w');
    await fx.ok(['model', 'pull', ref, '-o', weightsOnly, '--only', 'weights']);
    expect(Object.keys(await treeOf(weightsOnly))).toEqual(['model.gguf']);
  });
});
