import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeDigest } from '@ferry/oci';
import { factsFromSnapshotPath, fileMetadata, packModel } from './build.js';
import { makeGguf, makeSafetensors } from './fixtures.test.helpers.js';
import { encodeModelConfig } from './model-config.js';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-build-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** A Hugging Face-shaped model: sharded safetensors with an index, configs, tokenizer, docs, code. */
async function hfModel(root: string): Promise<void> {
  await mkdir(join(root, '.git', 'objects'), { recursive: true });
  await writeFile(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  await writeFile(join(root, '.gitattributes'), '*.safetensors filter=lfs\n');
  await writeFile(
    join(root, 'model-00001-of-00002.safetensors'),
    makeSafetensors([{ name: 'a', dtype: 'BF16', shape: [1000, 500] }]),
  );
  await writeFile(
    join(root, 'model-00002-of-00002.safetensors'),
    makeSafetensors([
      { name: 'b', dtype: 'BF16', shape: [600, 1000] },
      { name: 'n', dtype: 'F32', shape: [100] },
    ]),
  );
  await writeFile(
    join(root, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors' } }),
  );
  await writeFile(
    join(root, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'float32',
      quantization_config: { quant_method: 'awq' },
    }),
  );
  await writeFile(join(root, 'generation_config.json'), '{}');
  await writeFile(join(root, 'tokenizer.json'), '{"model":{}}');
  await writeFile(join(root, 'tokenizer_config.json'), '{}');
  await writeFile(join(root, 'README.md'), '# tiny\n');
  await writeFile(join(root, 'LICENSE'), 'Apache-2.0\n');
  await writeFile(join(root, 'modeling_tiny.py'), 'print("hi")\n', { mode: 0o755 });
}

describe('packModel', () => {
  it('packs a Hugging Face directory as ModelPack: kinds, annotations, config from the files', async () => {
    await hfModel(dir);
    const model = await packModel(dir, { facts: { name: 'tiny', licenses: ['Apache-2.0'] } });
    const { manifest } = model.packed;
    expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    expect(model.skipped).toEqual(['.git', '.gitattributes']);
    expect(
      manifest.layers.map((l) => [l.annotations?.['org.cncf.model.filepath'], l.mediaType]),
    ).toEqual([
      ['model-00001-of-00002.safetensors', 'application/vnd.cncf.model.weight.v1.raw'],
      ['model-00002-of-00002.safetensors', 'application/vnd.cncf.model.weight.v1.raw'],
      ['config.json', 'application/vnd.cncf.model.weight.config.v1.raw'],
      ['generation_config.json', 'application/vnd.cncf.model.weight.config.v1.raw'],
      ['model.safetensors.index.json', 'application/vnd.cncf.model.weight.config.v1.raw'],
      ['tokenizer.json', 'application/vnd.cncf.model.weight.config.v1.raw'],
      ['tokenizer_config.json', 'application/vnd.cncf.model.weight.config.v1.raw'],
      ['LICENSE', 'application/vnd.cncf.model.doc.v1.raw'],
      ['README.md', 'application/vnd.cncf.model.doc.v1.raw'],
      ['modeling_tiny.py', 'application/vnd.cncf.model.code.v1.raw'],
    ]);
    const py = manifest.layers[9];
    expect(py?.annotations).toEqual({
      'org.cncf.model.file.metadata+json':
        '{"name":"modeling_tiny.py","mode":493,"uid":0,"gid":0,"size":12,"mtime":"1970-01-01T00:00:00Z","typeflag":48}',
      'org.cncf.model.filepath': 'modeling_tiny.py',
      'org.opencontainers.image.title': 'modeling_tiny.py',
    });
    expect(model.config).toEqual({
      descriptor: { name: 'tiny', family: 'llama', licenses: ['Apache-2.0'] },
      modelfs: { type: 'layers', diffIds: manifest.layers.map((l) => l.digest) },
      config: {
        architecture: 'LlamaForCausalLM',
        format: 'safetensors',
        paramSize: '1.1m',
        precision: 'bfloat16',
        quantization: 'awq',
      },
    });
    // The config blob is what the manifest names.
    const chunks: Buffer[] = [];
    for await (const chunk of model.packed.config.open()) chunks.push(chunk as Buffer);
    expect(computeDigest(Buffer.concat(chunks))).toBe(manifest.config.digest);
    expect(manifest.annotations).toBeUndefined();
  });

  it('gives the same digest for the same directory; a creation time only when given', async () => {
    await hfModel(dir);
    const first = await packModel(dir);
    const second = await packModel(dir);
    expect(second.packed.descriptor.digest).toBe(first.packed.descriptor.digest);
    expect(second.packed.manifestBytes.equals(first.packed.manifestBytes)).toBe(true);
    const dated = await packModel(dir, { created: 1_700_000_000 });
    expect(dated.packed.descriptor.digest).not.toBe(first.packed.descriptor.digest);
    expect((dated.config as { descriptor: { createdAt: string } }).descriptor.createdAt).toBe(
      '2023-11-14T22:13:20Z',
    );
    expect(dated.packed.manifest.annotations).toEqual({
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
    });
    expect(
      dated.packed.manifest.layers[0]?.annotations?.['org.cncf.model.file.metadata+json'],
    ).toContain('"mtime":"2023-11-14T22:13:20Z"');
    await expect(packModel(dir, { created: 'yesterday' })).rejects.toMatchObject({
      message: expect.stringMatching(/--created "yesterday" is not an RFC 3339 time/),
    });
  });

  it('lets flags win over what the files say', async () => {
    await hfModel(dir);
    const model = await packModel(dir, {
      facts: { family: 'mine', paramSize: '2b', format: 'custom' },
    });
    expect(model.facts).toMatchObject({
      family: 'mine',
      paramSize: '2b',
      format: 'custom',
      precision: 'bfloat16',
    });
  });

  it('reads GGUF: architecture, name, quantization and parameter count', async () => {
    await writeFile(
      join(dir, 'tiny.Q4_K_M.gguf'),
      makeGguf({
        metadata: [
          ['general.architecture', { type: 'string', value: 'qwen2' }],
          ['general.name', { type: 'string', value: 'Qwen2 Tiny' }],
          ['general.file_type', { type: 'u32', value: 15 }],
        ],
        tensors: [{ name: 't', dims: [1000, 350] }],
      }),
    );
    const model = await packModel(dir);
    expect(model.facts).toMatchObject({
      format: 'gguf',
      architecture: 'qwen2',
      family: 'qwen2',
      name: 'Qwen2 Tiny',
      quantization: 'q4_k_m',
      paramSize: '350k',
    });
  });

  it('follows symlinks into a Hugging Face cache blobs directory', async () => {
    const repo = join(dir, 'models--org--tiny');
    const snapshot = join(repo, 'snapshots', 'abc123');
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(snapshot, { recursive: true });
    await writeFile(
      join(repo, 'blobs', 'b1'),
      makeSafetensors([{ name: 'w', dtype: 'F16', shape: [4] }]),
    );
    await writeFile(join(repo, 'blobs', 'b2'), '{"model_type":"gpt2"}');
    await symlink('../../blobs/b1', join(snapshot, 'model.safetensors'));
    await symlink('../../blobs/b2', join(snapshot, 'config.json'));
    const model = await packModel(snapshot);
    expect(model.files.map((f) => [f.path, f.size])).toEqual([
      [
        'model.safetensors',
        8 +
          Buffer.byteLength(
            JSON.stringify({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }),
          ) +
          8,
      ],
      ['config.json', 21],
    ]);
    expect(model.facts).toMatchObject({
      family: 'gpt2',
      precision: 'float16',
      paramSize: '4',
      // From the snapshot's path.
      name: 'tiny',
      revision: 'abc123',
      sourceURL: 'https://huggingface.co/org/tiny',
    });
    // Flags still win.
    const named = await packModel(snapshot, { facts: { name: 'mine' } });
    expect(named.facts.name).toBe('mine');
    expect(factsFromSnapshotPath('/c/models--gpt2/snapshots/0123/')).toEqual({
      name: 'gpt2',
      revision: '0123',
      sourceURL: 'https://huggingface.co/gpt2',
    });
    expect(factsFromSnapshotPath('/c/models--a--b/blobs')).toEqual({});
  });

  it('refuses symlink loops and dangling links, naming them', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'README.md'), 'x');
    await symlink('..', join(dir, 'sub', 'up'));
    await expect(packModel(dir)).rejects.toMatchObject({
      code: 'ERR_SYMLINK_LOOP',
      message: expect.stringMatching(/"sub\/up" links back/),
    });
    await rm(join(dir, 'sub', 'up'));
    await symlink('missing', join(dir, 'sub', 'gone'));
    await expect(packModel(dir)).rejects.toMatchObject({
      code: 'ERR_DANGLING_SYMLINK',
      message: expect.stringMatching(/"sub\/gone"/),
    });
  });

  it('refuses unclassified files unless a flag claims them', async () => {
    await writeFile(
      join(dir, 'model.safetensors'),
      makeSafetensors([{ name: 'w', dtype: 'F16', shape: [4] }]),
    );
    await writeFile(join(dir, 'weights.xyz'), 'x');
    await expect(packModel(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_UNCLASSIFIED',
      message: expect.stringContaining('"weights.xyz"'),
    });
    const model = await packModel(dir, { overrides: { weights: ['*.xyz'] } });
    expect(model.files.map((f) => [f.path, f.kind])).toEqual([
      ['model.safetensors', 'weights'],
      ['weights.xyz', 'weights'],
    ]);
  });
});

describe('packModel with a broken header', () => {
  it('names the file by its path in the model, never a resolved or temporary path', async () => {
    await mkdir(join(dir, 'weights'));
    await writeFile(join(dir, 'weights', 'model.safetensors'), Buffer.from('not a header'));
    await expect(packModel(dir)).rejects.toMatchObject({
      code: 'ERR_MODEL_HEADER',
      message: expect.stringMatching(
        /^"weights\/model\.safetensors" is not a valid safetensors file/,
      ),
    });
  });
});

describe('encodeModelConfig', () => {
  it('writes Go struct order, omits empty fields, escapes <>& as Go does', () => {
    const bytes = encodeModelConfig(
      { name: 'a<b>', licenses: [], format: 'gguf', createdAt: '2025-01-01T00:00:00Z' },
      ['sha256:' + 'a'.repeat(64)] as `sha256:${string}`[],
    );
    expect(bytes.toString()).toBe(
      `{"descriptor":{"createdAt":"2025-01-01T00:00:00Z","name":"a\\u003cb\\u003e"},"modelfs":{"type":"layers","diffIds":["sha256:${'a'.repeat(64)}"]},"config":{"format":"gguf"}}`,
    );
  });

  it('metadata annotation has model-spec FileMetadata fields', () => {
    expect(
      JSON.parse(
        fileMetadata(
          { path: 'a/b.bin', absolutePath: '/x', size: 3, mode: 0o644 },
          '1970-01-01T00:00:00Z',
        ),
      ),
    ).toEqual({
      name: 'b.bin',
      mode: 420,
      uid: 0,
      gid: 0,
      size: 3,
      mtime: '1970-01-01T00:00:00Z',
      typeflag: 48,
    });
  });
});
