import { describe, expect, it } from 'vitest';
import { LICENSE_CANNOT_REPRESENT, truncateLicense } from './spdx.js';

// The cases of Homebrew's own spec (test/utils/spdx_spec.rb, ".truncate_license"), then the
// default 255-character limit that github_packages.rb applies.
describe('truncateLicense (SPDX.truncate_license)', () => {
  it('returns the license unchanged when within the limit', () => {
    expect(truncateLicense('MIT AND Apache-2.0')).toBe('MIT AND Apache-2.0');
  });

  it('truncates an over-long conjunction to a valid prefix with a marker', () => {
    const license = 'MIT AND Apache-2.0 AND BSD-3-Clause AND GPL-2.0-only';
    expect(truncateLicense(license, 40)).toBe('MIT AND LicenseRef-Homebrew-truncated');
  });

  it('falls back to :cannot_represent for over-long disjunctions', () => {
    const license = 'MIT OR Apache-2.0 OR BSD-3-Clause OR GPL-2.0-only';
    expect(truncateLicense(license, 40)).toBe(LICENSE_CANNOT_REPRESENT);
  });

  it('falls back to :cannot_represent when even the first term does not fit', () => {
    expect(truncateLicense('Apache-2.0 AND MIT AND BSD-3-Clause AND ISC', 20)).toBe(
      'LicenseRef-Homebrew-cannot-represent',
    );
  });

  it('keeps a bracketed sub-expression whole', () => {
    const license =
      '(MIT AND ISC) AND (Apache-2.0 OR BSD-2-Clause AND Zlib) AND GPL-2.0-only AND LGPL-2.1-or-later';
    expect(truncateLicense(license, 90)).toBe(
      '(MIT AND ISC) AND (Apache-2.0 OR BSD-2-Clause AND Zlib) AND LicenseRef-Homebrew-truncated',
    );
  });

  it('keeps exactly 255 characters, and cuts 256 at the 255 limit', () => {
    const terms = Array.from({ length: 40 }, (_, i) => `LicenseRef-T${String(i).padStart(3, '0')}`);
    const long = terms.join(' AND ');
    const exactly255 = long.slice(0, 255);
    expect(truncateLicense(exactly255)).toBe(exactly255);
    const truncated = truncateLicense(long);
    expect(truncated.length).toBeLessThanOrEqual(255);
    expect(truncated.endsWith(' AND LicenseRef-Homebrew-truncated')).toBe(true);
    // Whole terms only: every kept term is one of the originals, in order.
    const kept = truncated.split(' AND ').slice(0, -1);
    expect(kept).toEqual(terms.slice(0, kept.length));
    // And no further whole term would have fitted.
    expect(
      [...kept, terms[kept.length], 'LicenseRef-Homebrew-truncated'].join(' AND ').length,
    ).toBeGreaterThan(255);
  });

  it('counts characters, as Ruby does, not UTF-8 bytes', () => {
    const license = `${'é'.repeat(250)} AND MIT`;
    // 258 characters (more bytes): truncated to the first term? It alone does not fit with the marker.
    expect(truncateLicense(license)).toBe(LICENSE_CANNOT_REPRESENT);
    expect(truncateLicense('é'.repeat(255))).toBe('é'.repeat(255));
  });
});
