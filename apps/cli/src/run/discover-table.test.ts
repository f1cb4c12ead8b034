import { describe, expect, it } from 'vitest';
import { referrersTable } from './discover-table.js';

const digest = (c: string) => `sha256:${c.repeat(64)}` as const;
const subject = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digest('0'),
  size: 1,
};

describe('referrersTable', () => {
  it('lays out ORAS’s columns: the type column as wide as the longest type, plus three', () => {
    const lines = referrersTable('r:v1', subject, [
      { ...subject, digest: digest('a'), artifactType: 'application/x' },
      { ...subject, digest: digest('b'), artifactType: 'application/spdx+json' },
    ]);
    expect(lines).toEqual([
      'Discovered 2 artifacts referencing r:v1',
      `Digest: ${digest('0')}`,
      '',
      `Artifact Type           Digest`,
      `application/x           ${digest('a')}`,
      `application/spdx+json   ${digest('b')}`,
    ]);
  });

  it('escapes control characters a registry put in an artifact type', () => {
    const lines = referrersTable('r:v1', subject, [
      { ...subject, digest: digest('a'), artifactType: 'evil\u001b[2J\u0007' },
    ]);
    expect(lines[0]).toBe('Discovered 1 artifact referencing r:v1');
    expect(lines[4]).toBe(`evil\\u001b[2J\\u0007   ${digest('a')}`);
    expect(lines.join('')).not.toContain('\u001b');
  });
});
