import { describe, expect, it } from 'vitest';
import { EmptyJson, MediaType, type Descriptor, type ImageManifest } from '@ferry/oci';
import { readModel } from './read.js';

const d = (mediaType: string, n: number, annotations?: Record<string, string>): Descriptor => ({
  mediaType,
  digest: `sha256:${String(n).padStart(64, '0')}`,
  size: n,
  ...(annotations ? { annotations } : {}),
});

const manifest = (
  config: Descriptor,
  layers: Descriptor[],
  artifactType?: string,
): ImageManifest => ({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  ...(artifactType ? { artifactType } : {}),
  config,
  layers,
});

describe('readModel', () => {
  it('reads ModelPack: kinds from media types, paths from org.cncf.model.filepath, facts from the config', () => {
    const view = readModel(
      manifest(
        d('application/vnd.cncf.model.config.v1+json', 1),
        [
          d('application/vnd.cncf.model.weight.v1.raw', 2, {
            'org.cncf.model.filepath': 'w/model.safetensors',
          }),
          d('application/vnd.cncf.model.weight.config.v1.raw', 3, {
            'org.cncf.model.filepath': 'config.json',
          }),
          d('application/vnd.cncf.model.doc.v1.tar', 4, { 'org.cncf.model.filepath': 'docs' }),
        ],
        'application/vnd.cncf.model.manifest.v1+json',
      ),
      {
        descriptor: { name: 'm', licenses: ['MIT'] },
        config: { format: 'safetensors', paramSize: '8b' },
        modelfs: {},
      },
    );
    expect(view.format).toBe('modelpack');
    expect(view.facts).toEqual({
      name: 'm',
      licenses: ['MIT'],
      format: 'safetensors',
      paramSize: '8b',
    });
    expect(view.files.map((f) => [f.path, f.kind, f.packing])).toEqual([
      ['w/model.safetensors', 'weights', 'raw'],
      ['config.json', 'config', 'raw'],
      ['docs', 'docs', 'tar'],
    ]);
  });

  it('reads the older cnai form (org.cnai.model.filepath)', () => {
    const view = readModel(
      manifest(
        d('application/vnd.cnai.model.config.v1+json', 1),
        [
          d('application/vnd.cnai.model.weight.v1.tar', 2, {
            'org.cnai.model.filepath': 'model.bin',
          }),
        ],
        'application/vnd.cnai.model.manifest.v1+json',
      ),
      { descriptor: { family: 'qwen' }, config: {} },
    );
    expect(view.format).toBe('cnai');
    expect(view.facts).toEqual({ family: 'qwen' });
    expect(view.files.map((f) => [f.path, f.kind, f.packing])).toEqual([
      ['model.bin', 'weights', 'tar'],
    ]);
  });

  it('reads KitOps: paths from the layer or, for older kits, from the Kitfile in layer order', () => {
    const kitfile = {
      manifestVersion: '1.0.0',
      package: { name: 'kit', version: '1.0', license: 'MIT', authors: ['me'] },
      model: { path: 'models/m.gguf', framework: 'gguf', parts: [{ path: 'models/proj.gguf' }] },
      code: [{ path: 'src' }],
      datasets: [{ name: 'd', path: 'data/train.csv' }],
      docs: [{ path: 'README.md' }],
    };
    const view = readModel(
      manifest(d('application/vnd.kitops.modelkit.config.v1+json', 1), [
        d('application/vnd.kitops.modelkit.model.v1.tar', 2),
        d('application/vnd.kitops.modelkit.modelpart.v1.tar', 3),
        d('application/vnd.kitops.modelkit.code.v1.tar+gzip', 4),
        d('application/vnd.kitops.modelkit.dataset.v1.tar', 5, {
          'org.cncf.model.filepath': 'data/train.csv',
        }),
        d('application/vnd.kitops.modelkit.docs.v1.tar', 6),
      ]),
      kitfile,
    );
    expect(view.format).toBe('kitops');
    expect(view.facts).toEqual({
      name: 'kit',
      version: '1.0',
      format: 'gguf',
      licenses: ['MIT'],
      authors: ['me'],
    });
    expect(view.files.map((f) => [f.path, f.kind, f.packing])).toEqual([
      ['models/m.gguf', 'weights', 'tar'],
      ['models/proj.gguf', 'weights', 'tar'],
      ['src', 'code', 'tar+gzip'],
      ['data/train.csv', 'datasets', 'tar'],
      ['README.md', 'docs', 'tar'],
    ]);
  });

  it('reads Docker Model Runner: names per media type (v0.1), or org.cncf.model.filepath (v0.2)', () => {
    const v1 = readModel(
      manifest(d('application/vnd.docker.ai.model.config.v0.1+json', 1), [
        d('application/vnd.docker.ai.gguf.v3', 2),
        d('application/vnd.docker.ai.license', 3),
        d('application/vnd.docker.ai.license', 4),
        d('application/vnd.docker.ai.chat.template.jinja', 5),
      ]),
      {
        config: {
          format: 'gguf',
          quantization: 'Q4_K_M',
          parameters: '1.1B',
          architecture: 'llama',
        },
      },
    );
    expect(v1.format).toBe('docker');
    expect(v1.facts).toEqual({
      format: 'gguf',
      quantization: 'Q4_K_M',
      paramSize: '1.1B',
      architecture: 'llama',
    });
    expect(v1.files.map((f) => [f.path, f.kind])).toEqual([
      ['model.gguf', 'weights'],
      ['LICENSE', 'docs'],
      ['LICENSE-2', 'docs'],
      ['template.jinja', 'config'],
    ]);
    const v2 = readModel(
      manifest(d('application/vnd.docker.ai.model.config.v0.2+json', 1), [
        d('application/vnd.docker.ai.safetensors', 2, {
          'org.cncf.model.filepath': 'model-1.safetensors',
        }),
        d('application/vnd.docker.ai.model.file', 3, {
          'org.cncf.model.filepath': 'tokenizer.json',
        }),
      ]),
      {},
    );
    expect(v2.files.map((f) => [f.path, f.kind])).toEqual([
      ['model-1.safetensors', 'weights'],
      ['tokenizer.json', 'config'],
    ]);
  });

  it('reads an ORAS artifact by titles, kinds from the table', () => {
    const view = readModel(
      manifest(
        EmptyJson,
        [
          d(MediaType.OciLayer, 2, { 'org.opencontainers.image.title': 'model.gguf' }),
          d(MediaType.OciLayer, 3, { 'org.opencontainers.image.title': 'notes.xyz' }),
          d(MediaType.OciLayer, 4),
        ],
        'application/vnd.example',
      ),
    );
    expect(view.format).toBe('oras');
    expect(view.files.map((f) => [f.path, f.kind])).toEqual([
      ['model.gguf', 'weights'],
      ['notes.xyz', undefined],
    ]);
  });
});
