/**
 * `SPDX.truncate_license` (`Library/Homebrew/utils/spdx.rb`): the value of
 * `org.opencontainers.image.licenses`, which GHCR refuses at 256 characters. Whole top-level `AND`
 * terms are kept while they fit (with the `LicenseRef-Homebrew-truncated` marker), since a prefix of
 * `A AND B AND …` still holds; anything else (an `OR`, a lone licence, a first term that does not
 * fit) becomes `LicenseRef-Homebrew-cannot-represent`. Lengths are Ruby's `String#length`:
 * characters, not bytes.
 */

/** `SPDX.license_expression_to_string(:cannot_represent)`. */
export const LICENSE_CANNOT_REPRESENT = 'LicenseRef-Homebrew-cannot-represent';
/** `SPDX.license_expression_to_string(:truncated)`. */
export const LICENSE_TRUNCATED = 'LicenseRef-Homebrew-truncated';
/** GHCR rejects 256-character annotation values on child manifests. */
export const LICENSE_ANNOTATION_LIMIT = 255;

const rubyLength = (text: string): number => [...text].length;
const count = (text: string, char: string): number => text.split(char).length - 1;

export function truncateLicense(license: string, limit = LICENSE_ANNOTATION_LIMIT): string {
  if (rubyLength(license) <= limit) return license;
  // Split on top-level ` AND `, re-joining a segment split inside brackets so each part stays a
  // balanced licence expression.
  const parts: string[] = [];
  for (const segment of license.split(' AND ')) {
    const previous = parts.at(-1);
    if (previous !== undefined && count(previous, '(') > count(previous, ')')) {
      parts[parts.length - 1] = `${previous} AND ${segment}`;
    } else {
      parts.push(segment);
    }
  }
  if (parts.length < 2) return LICENSE_CANNOT_REPRESENT;
  const kept: string[] = [];
  for (const part of parts) {
    if (rubyLength([...kept, part, LICENSE_TRUNCATED].join(' AND ')) > limit) break;
    kept.push(part);
  }
  if (kept.length === 0) return LICENSE_CANNOT_REPRESENT;
  return [...kept, LICENSE_TRUNCATED].join(' AND ');
}
