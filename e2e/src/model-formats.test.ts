// `ferry model pull` and `inspect` of artifacts laid out as modctl (cnai), KitOps and Docker Model
// Runner write them — uploaded here with plain distribution-spec requests from their published media
// types, never with ferry's writer — and of plain ORAS artifacts pushed by `ferry push`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf, jsonOf, treeOf, useCliFixture } from './support/cli-fixture.js';
import { safetensors, tarOf } from './support/model-files.js';
import { putManifest, uploadBlob } from './support/model-writer.js';

const fx = useCliFixture('anonymous');

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

  it('pulls and inspects a plain ORAS artifact by its titles, kinds from the table', async () => {
    await fx.write('m/model.gguf', Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(100, 3)]));
    await fx.write('m/README.md', '# oras\n');
    await fx.write('m/notes.xyz', 'x');
    const ref = fx.repo('oras-model');
    await fx.ok(['push', `${ref}:v1`, 'model.gguf', 'README.md', 'notes.xyz'], {
      cwd: join(fx.dir, 'm'),
    });
    const inspected = jsonOf<{ format: string; files: { path: string; kind: string | null }[] }>(
      await fx.ok(['model', 'inspect', `${ref}:v1`, '--format', 'json']),
    );
    expect(inspected.format).toBe('oras');
    expect(inspected.files.map((f) => [f.path, f.kind])).toEqual([
      ['model.gguf', 'weights'],
      ['README.md', 'docs'],
      ['notes.xyz', null],
    ]);
    const out = join(fx.dir, 'out');
    await fx.ok(['model', 'pull', `${ref}:v1`, '-o', out, '--only', 'weights']);
    expect(Object.keys(await treeOf(out))).toEqual(['model.gguf']);
  });

  it('escapes control characters from a hostile config before they reach the terminal', async () => {
    const repository = `others/hostile-${Date.now()}`;
    const layer = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from('w'),
      'application/vnd.cncf.model.weight.v1.raw',
      {
        'org.cncf.model.filepath': 'a\u001b[2Jb.bin',
      },
    );
    const config = await uploadBlob(
      fx.reg.url,
      repository,
      Buffer.from(
        JSON.stringify({
          descriptor: { name: 'evil\u001b]0;pwned\u0007\r' },
          config: {},
          modelfs: { type: 'layers', diffIds: [layer.digest] },
        }),
      ),
      'application/vnd.cncf.model.config.v1+json',
    );
    await putManifest(fx.reg.url, repository, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config,
      layers: [layer],
    });
    const text = await fx.ok(['model', 'inspect', `${fx.host}/${repository}:v1`]);
    // eslint-disable-next-line no-control-regex
    expect(text.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text.stdout).toContain('evil\\u001b]0;pwned\\u0007\\u000d');
    expect(text.stdout).toContain('a\\u001b[2Jb.bin');
  });
});
