import { describe, expect, it } from 'vitest';
import { sbomSupplementAnnotation, type SbomBottleFields } from './sbom.js';

const SHA = 'a'.repeat(64);
const fields: SbomBottleFields = {
  formulaFullName: 'formula_name',
  formulaName: 'formula_name',
  version: '0.1',
  tarGzSha256: SHA,
  rootUrl: 'https://ghcr.io/v2/homebrew/core',
  license: 'MIT',
  createdDate: '2026-05-10T00:00:00Z',
};

describe('sbomSupplementAnnotation (SBOM.github_packages_sbom_supplement_annotation)', () => {
  it('adds the bottle package, byte for byte as Ruby to_json writes it', () => {
    const supplement = {
      documentDescribes: ['SPDXRef-Compiler'],
      packages: [{ SPDXID: 'SPDXRef-Compiler' }],
      relationships: [],
    };
    // Built by hand in sbom.rb's key order (SBOM.bottle_package), compact as Hash#to_json.
    const expected =
      '{"documentDescribes":["SPDXRef-Compiler","SPDXRef-Bottle-formula_name"],' +
      '"packages":[{"SPDXID":"SPDXRef-Compiler"},{"SPDXID":"SPDXRef-Bottle-formula_name",' +
      '"name":"formula_name","versionInfo":"0.1","filesAnalyzed":false,' +
      '"licenseDeclared":"NOASSERTION","builtDate":"2026-05-10T00:00:00Z",' +
      '"licenseConcluded":"MIT",' +
      `"downloadLocation":"https://ghcr.io/v2/homebrew/core/formula_name/blobs/sha256:${SHA}",` +
      '"copyrightText":"NOASSERTION","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER",' +
      '"referenceLocator":"pkg:brew/formula_name@0.1","referenceType":"purl"}],' +
      `"checksums":[{"algorithm":"SHA256","checksumValue":"${SHA}"}]}],"relationships":[]}`;
    expect(sbomSupplementAnnotation(supplement, fields)).toBe(expected);
  });

  it('maps the image name as image_formula_name does, and NOASSERTION for no licence', () => {
    const value = sbomSupplementAnnotation(
      { packages: [] },
      { ...fields, formulaName: 'libstdc++@2', formulaFullName: 'me/tap/libstdc++@2', license: '' },
    );
    const parsed = JSON.parse(value!) as {
      documentDescribes: string[];
      packages: {
        downloadLocation: string;
        licenseConcluded: string;
        externalRefs: { referenceLocator: string }[];
      }[];
      relationships: unknown[];
    };
    expect(parsed.documentDescribes).toEqual([]);
    expect(parsed.relationships).toEqual([]);
    expect(parsed.packages[0]!.downloadLocation).toBe(
      `https://ghcr.io/v2/homebrew/core/libstdcxx/2/blobs/sha256:${SHA}`,
    );
    expect(parsed.packages[0]!.licenseConcluded).toBe('NOASSERTION');
    expect(parsed.packages[0]!.externalRefs[0]!.referenceLocator).toBe(
      'pkg:brew/me/tap/libstdc++@2@0.1',
    );
  });

  it('adds the package to each tag of a per-tag supplement', () => {
    const value = sbomSupplementAnnotation(
      { tags: { arm64_sonoma: { packages: [], documentDescribes: [] }, bad: 1 } },
      fields,
    );
    const parsed = JSON.parse(value!) as { tags: Record<string, { documentDescribes: string[] }> };
    expect(Object.keys(parsed.tags)).toEqual(['arm64_sonoma']);
    expect(parsed.tags.arm64_sonoma!.documentDescribes).toEqual(['SPDXRef-Bottle-formula_name']);
  });

  it('gives nothing without an sbom or without packages', () => {
    expect(sbomSupplementAnnotation(undefined, fields)).toBeUndefined();
    expect(sbomSupplementAnnotation(null, fields)).toBeUndefined();
    expect(sbomSupplementAnnotation({ documentDescribes: [] }, fields)).toBeUndefined();
  });
});
