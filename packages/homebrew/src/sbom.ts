/**
 * `sh.brew.sbom.supplement`: `SBOM.github_packages_sbom_supplement_annotation` (`Library/Homebrew/
 * sbom.rb`), called by `GitHubPackages#upload_bottle` with the bottle JSON's per-tag `sbom`. The
 * supplement gains a package for the bottle itself, and the whole is written with Ruby's
 * `to_json` (compact, keys in insertion order), which `JSON.stringify` reproduces for JSON data.
 */

type SpdxHash = Record<string, unknown>;

const isHash = (value: unknown): value is SpdxHash =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SbomBottleFields {
  /** `formula_full_name` (core formulae without a tap prefix). */
  formulaFullName: string;
  formulaName: string;
  /** The formula's pkg_version (`Version.new(pkg_version).to_s`). */
  version: string;
  /** sha256 hex of the bottle tarball. */
  tarGzSha256: string;
  /** The bottle JSON's `bottle.root_url` (`https://ghcr.io/v2/homebrew/core`). */
  rootUrl: string;
  /** `bottle_hash["formula"]["license"].to_s`: the whole licence, never truncated. */
  license: string;
  createdDate: string;
}

/** `SBOM.bottle_package`, keys in its order. */
function bottlePackage(fields: SbomBottleFields): SpdxHash {
  // GitHubPackages.image_formula_name: `@` → `/`, `+` → `x` (no lowercasing here).
  const image = fields.formulaName.replaceAll('@', '/').replaceAll('+', 'x');
  return {
    SPDXID: `SPDXRef-Bottle-${fields.formulaName}`,
    name: fields.formulaName,
    versionInfo: fields.version,
    filesAnalyzed: false,
    licenseDeclared: 'NOASSERTION',
    builtDate: fields.createdDate,
    licenseConcluded: fields.license.trim() !== '' ? fields.license : 'NOASSERTION',
    downloadLocation: `${fields.rootUrl}/${image}/blobs/sha256:${fields.tarGzSha256}`,
    copyrightText: 'NOASSERTION',
    externalRefs: [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceLocator: `pkg:brew/${fields.formulaFullName}@${fields.version}`,
        referenceType: 'purl',
      },
    ],
    checksums: [{ algorithm: 'SHA256', checksumValue: fields.tarGzSha256 }],
  };
}

/** `SBOM.add_bottle_package_to_supplement`: per-tag supplements recursively, else one document. */
function addBottlePackage(supplement: unknown, bottle: SpdxHash): SpdxHash | undefined {
  if (supplement === undefined || supplement === null) return undefined;
  if (!isHash(supplement)) return undefined;
  const tags = supplement.tags;
  if (isHash(tags)) {
    const perTag: SpdxHash = {};
    for (const [tag, tagSupplement] of Object.entries(tags)) {
      if (!isHash(tagSupplement)) continue;
      const added = addBottlePackage(tagSupplement, bottle);
      if (added !== undefined) perTag[tag] = added;
    }
    if (Object.keys(perTag).length > 0) return { tags: perTag };
  }
  const packages = supplement.packages;
  if (!Array.isArray(packages)) return undefined;
  const describes = supplement.documentDescribes;
  const relationships = supplement.relationships;
  return {
    documentDescribes: Array.isArray(describes) ? [...describes, bottle.SPDXID] : [],
    packages: [...packages, bottle],
    relationships: Array.isArray(relationships) ? relationships : [],
  };
}

/**
 * The annotation's value, or `undefined` when the bottle JSON has no `sbom` (or one without
 * `packages`), in which case `compact_blank` leaves the key out.
 */
export function sbomSupplementAnnotation(
  supplement: unknown,
  fields: SbomBottleFields,
): string | undefined {
  const merged = addBottlePackage(supplement, bottlePackage(fields));
  return merged === undefined ? undefined : JSON.stringify(merged);
}
