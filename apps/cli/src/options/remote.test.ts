// The remote groups: every name ORAS has, -H/--resolve as lists, cp's ends under their prefixes.
import { describe, expect, it } from 'vitest';
import { parseGroups } from '../testing/parse-groups.js';
import { flagNames } from './group.js';
import {
  destinationOptions,
  distributionSpecOption,
  endCredentialOptions,
  remoteOptions,
  sourceOptions,
} from './remote.js';

describe('remote options', () => {
  it('-H and --resolve are lists whether given once or more', async () => {
    expect(await parseGroups([remoteOptions], ['-H', 'A: 1'])).toMatchObject({
      ok: true,
      args: { header: ['A: 1'] },
    });
    expect(
      await parseGroups([remoteOptions], ['-H', 'A: 1', '--header', 'B: 2', '--resolve', 'r']),
    ).toMatchObject({ ok: true, args: { header: ['A: 1', 'B: 2'], resolve: ['r'] } });
  });

  it('cp: each end has the connection flags under its prefix', () => {
    expect(flagNames(sourceOptions)).toEqual([
      'from-header',
      'from-resolve',
      'from-cert-file',
      'from-key-file',
      'from-distribution-spec',
      'from-ca-file',
      'from-insecure',
      'from-plain-http',
    ]);
    expect(flagNames(destinationOptions).every((flag) => flag.startsWith('to-'))).toBe(true);
    expect(flagNames(endCredentialOptions)).toEqual([
      'from-username',
      'from-password',
      'from-password-stdin',
      'to-username',
      'to-password',
      'to-password-stdin',
    ]);
  });

  it('--distribution-spec takes ORAS’s two values only', async () => {
    expect(
      await parseGroups([distributionSpecOption], ['--distribution-spec', 'v1.1-referrers-tag']),
    ).toMatchObject({ ok: true, args: { 'distribution-spec': 'v1.1-referrers-tag' } });
    const refused = await parseGroups([distributionSpecOption], ['--distribution-spec', 'v2']);
    expect(refused.ok).toBe(false);
  });

  it('--from-cert-file without --from-key-file is refused by the CLI (exit 2)', async () => {
    const { runCaptured } = await import('../run-captured.js');
    const result = await runCaptured(
      'cp',
      'localhost:1/a:v1',
      'localhost:1/b:v1',
      '--from-cert-file',
      'cert.pem',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Error: --from-cert-file needs --from-key-file: give a client certificate and its private key (PEM) together, or neither',
    );
  });
});
