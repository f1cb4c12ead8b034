// What current `github_packages.rb` writes, byte for byte: `all` bottles, SPDX.truncate_license,
// sh.brew.sbom.supplement, macOS 27 without built_on, versions that are not OCI tags.
import { describe, expect, it } from 'vitest';
import { referenceUpload } from './testing/github-packages-reference.js';
import {
  expectSameAsBrew,
  opened,
  push,
  TAB_MAC,
  usePushHarness,
  writeBottleJson,
} from './testing/push-harness.js';

usePushHarness();

describe('what current github_packages.rb writes', () => {
  it('an all bottle: no platform in its entry, no arch or built_on in its tab (item 3)', async () => {
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { all: { tab: TAB_MAC } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
    const entry = (JSON.parse(reference.index.json) as { manifests: Record<string, unknown>[] })
      .manifests[0]!;
    expect(entry).not.toHaveProperty('platform');
    const tab = JSON.parse((entry.annotations as Record<string, string>)['sh.brew.tab']!) as object;
    expect(Object.keys(tab)).toEqual([
      'homebrew_version',
      'changed_files',
      'source_modified_time',
      'compiler',
      'runtime_dependencies',
    ]);
  });

  it('a long licence through SPDX.truncate_license (item 4)', async () => {
    const terms = Array.from({ length: 30 }, (_, i) => `LicenseRef-Part-${i}`);
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      license: terms.join(' AND '),
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
    const licenses = (JSON.parse(reference.index.json) as { annotations: Record<string, string> })
      .annotations['org.opencontainers.image.licenses']!;
    expect(licenses.length).toBeLessThanOrEqual(255);
    expect(licenses.endsWith(' AND LicenseRef-Homebrew-truncated')).toBe(true);
  });

  it('sh.brew.sbom.supplement from the bottle JSON’s sbom (item 5)', async () => {
    const sbom = {
      documentDescribes: ['SPDXRef-Compiler'],
      packages: [{ SPDXID: 'SPDXRef-Compiler', name: 'clang' }],
      relationships: [],
    };
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC, sbom } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    expect(reference.index.json).toContain('sh.brew.sbom.supplement');
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
  });

  it('a macOS 27 bottle whose tab has no built_on gets os.version "macOS 27" (item 11)', async () => {
    const { built_on: _builtOn, ...tab } = TAB_MAC;
    const { jsonPath, hash } = await writeBottleJson({
      fullName: 'foo',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_golden_gate: { tab } },
    });
    await push([jsonPath]);
    const reference = referenceUpload('foo', hash);
    expect(reference.index.json).toContain('"os.version": "macOS 27"');
    await expectSameAsBrew('ghcr.io/myorg/tap/foo', '1.0', reference);
  });

  it('refuses a version that is not a valid OCI tag, before contacting anything (item 6)', async () => {
    const { jsonPath } = await writeBottleJson({
      fullName: 'foo',
      version: '1.0+git2',
      rootUrl: 'https://ghcr.io/v2/myorg/tap',
      tags: { arm64_sequoia: { tab: TAB_MAC } },
    });
    await expect(push([jsonPath])).rejects.toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_BOTTLE_VERSION',
        message: expect.stringContaining('"1.0+git2"'),
      }),
    );
    expect(opened).toEqual([]);
  });
});
