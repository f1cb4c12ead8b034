import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chooseConfig, platformConfigBytes } from './artifact-platform.js';

describe('platformConfigBytes', () => {
  it('writes the platform as given, in Go’s field order', () => {
    expect(platformConfigBytes('linux/amd64').toString()).toBe(
      '{"architecture":"amd64","os":"linux"}',
    );
    expect(platformConfigBytes('linux/arm64/v8').toString()).toBe(
      '{"architecture":"arm64","os":"linux","variant":"v8"}',
    );
    expect(platformConfigBytes('windows/amd64:10.0.17763.1234').toString()).toBe(
      '{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1234"}',
    );
  });

  it('refuses what is no platform', () => {
    expect(() => platformConfigBytes('linux')).toThrow(/missing architecture/);
    expect(() => platformConfigBytes('linux/amd64/v1/x')).toThrow(/too many/);
  });
});

describe('chooseConfig', () => {
  it('defaults a v1.1 artifact type, and removes its temporary file', async () => {
    const chosen = await chooseConfig({ 'artifact-platform': 'linux/amd64' });
    expect(chosen).toMatchObject({
      config: { mediaType: 'application/vnd.oci.image.config.v1+json' },
      imageSpec: 'v1.1',
      artifactType: 'application/vnd.unknown.artifact.v1',
    });
    const path = chosen.config?.path ?? '';
    expect(await readFile(path, 'utf8')).toBe('{"architecture":"amd64","os":"linux"}');
    await chosen.cleanup();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    const typed = await chooseConfig({
      'artifact-platform': 'linux/amd64',
      'artifact-type': 'x/y',
    });
    expect(typed.artifactType).toBeUndefined();
    await typed.cleanup();
  });

  it('refuses --config with --artifact-platform, and passes --config through', async () => {
    await expect(
      chooseConfig({ 'artifact-platform': 'linux/amd64', config: 'c.json' }),
    ).rejects.toThrow('--config and --artifact-platform cannot both be given');
    expect((await chooseConfig({ config: 'c.json:application/x+json' })).config).toEqual({
      path: 'c.json',
      mediaType: 'application/x+json',
    });
  });
});
