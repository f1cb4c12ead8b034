import { describe, expect, it } from 'vitest';
import type { Target } from '@ferry/artifact';
import { MediaType } from '@ferry/oci';
import { inspectModel, MODEL_CONFIG_LIMIT } from './inspect.js';
import { MemoryFetcher } from './memory-fetcher.test.helpers.js';

function store(config: Buffer | string, configType = 'application/vnd.cncf.model.config.v1+json') {
  const fetcher = new MemoryFetcher();
  const weights = fetcher.add('W', 'application/vnd.cncf.model.weight.v1.raw', {
    'org.cncf.model.filepath': 'model.gguf',
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: fetcher.add(config, configType),
    layers: [weights],
  };
  const root = fetcher.add(JSON.stringify(manifest), MediaType.OciManifest);
  return { fetcher, root, weights };
}

describe('inspectModel', () => {
  it('reads the manifest and config, and never fetches a weight', async () => {
    const { fetcher, root, weights } = store(
      JSON.stringify({ descriptor: { name: 'm' }, config: { paramSize: '8b' }, modelfs: {} }),
    );
    const model = await inspectModel(fetcher as unknown as Target, root);
    expect(model.format).toBe('modelpack');
    expect(model.facts).toEqual({ name: 'm', paramSize: '8b' });
    expect(model.files.map((f) => f.path)).toEqual(['model.gguf']);
    expect(fetcher.fetched).not.toContain(weights.digest);
    expect(fetcher.fetched).toHaveLength(2);
  });

  it('refuses a config over the limit without reading it', async () => {
    const { fetcher, root } = store(Buffer.alloc(MODEL_CONFIG_LIMIT + 1, 32));
    await expect(inspectModel(fetcher as unknown as Target, root)).rejects.toMatchObject({
      code: 'ERR_CONTENT_TOO_LARGE',
    });
    expect(fetcher.fetched).toEqual([root.digest]);
  });

  it('gives no facts for a config that is not JSON', async () => {
    const { fetcher, root } = store('not json');
    expect((await inspectModel(fetcher as unknown as Target, root)).facts).toEqual({});
  });
});
