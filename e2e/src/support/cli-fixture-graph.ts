// attach, discover, copy/cp, tag, resolve, repo tags end to end.
import { expect, it } from 'vitest';
import {
  EMPTY_CONFIG,
  MANIFEST,
  digestLine,
  jsonOf,
  linesOf,
  statusNames,
  type CliFixture,
} from './cli-fixture.js';
import { writeInputs } from './cli-fixture-push.js';

const SBOM = 'application/spdx+json';
const SIGNATURE = 'application/vnd.ferry.signature';
const NESTED = 'application/vnd.ferry.nested';

interface Referrer {
  reference: string;
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  referrers: Referrer[];
}

/** A referrer tree without references (they name the repository), children sorted by digest. */
function shape(node: Referrer): unknown {
  return {
    digest: node.digest,
    artifactType: node.artifactType,
    annotations: node.annotations,
    referrers: [...node.referrers].sort((a, b) => a.digest.localeCompare(b.digest)).map(shape),
  };
}

/** Pushes a subject and attaches an SBOM (with a nested referrer) and a signature to it. */
async function pushWithReferrers(fx: CliFixture, name: string) {
  await writeInputs(fx);
  await fx.write('sbom.json', '{"spdxVersion":"SPDX-2.3"}\n');
  const repo = fx.repo(name);
  const subject = digestLine(await fx.ok(['push', `${repo}:v1`, 'a.txt']));
  const sbom = await fx.ok(['attach', `${repo}:v1`, 'sbom.json', '--artifact-type', SBOM]);
  expect(linesOf(sbom.stdout).slice(-2)).toEqual([
    `Attached to [registry] ${repo}@${subject}`,
    `Digest: ${digestLine(sbom)}`,
  ]);
  const signature = await fx.ok([
    'attach',
    `${repo}:v1`,
    '--artifact-type',
    SIGNATURE,
    '-a',
    'org.example.signer=ci',
    '-a',
    'org.example.n=1',
  ]);
  const sbomDigest = digestLine(sbom);
  const nested = await fx.ok([
    'attach',
    `${repo}@${sbomDigest}`,
    '--artifact-type',
    NESTED,
    '-a',
    'org.example.depth=2',
  ]);
  return {
    repo,
    subject,
    sbom: sbomDigest,
    signature: digestLine(signature),
    nested: digestLine(nested),
  };
}

export function graphTests(fx: CliFixture): void {
  it('attach, then discover as a tree, as JSON, filtered, and two levels deep', async () => {
    const g = await pushWithReferrers(fx, 'discover');
    const [tree, json, filtered, tags, plain] = await Promise.all([
      fx.ok(['discover', `${g.repo}:v1`]),
      fx.run(['discover', `${g.repo}:v1`, '--format', 'json']),
      fx.ok(['discover', `${g.repo}:v1`, '--artifact-type', SIGNATURE]),
      fx.ok(['repo', 'tags', g.repo]),
      fx.ok(['repo', 'tags', g.repo, '--exclude-digest-tags']),
    ]);
    expect(linesOf(tree.stdout)).toEqual([
      `${g.repo}@${g.subject}`,
      `├── ${SBOM}`,
      `│   └── ${g.sbom}`,
      `│       └── ${NESTED}`,
      `│           └── ${g.nested}`,
      `└── ${SIGNATURE}`,
      `    └── ${g.signature}`,
    ]);
    expect(linesOf(filtered.stdout)).toEqual([
      `${g.repo}@${g.subject}`,
      `└── ${SIGNATURE}`,
      `    └── ${g.signature}`,
    ]);

    const root = jsonOf<Referrer>(json);
    expect(root.digest).toBe(g.subject);
    expect(root.reference).toBe(`${g.repo}@${g.subject}`);
    expect(root.referrers.map((r) => [r.artifactType, r.digest])).toEqual([
      [SBOM, g.sbom],
      [SIGNATURE, g.signature],
    ]);
    expect(root.referrers[1]?.annotations).toEqual({
      'org.example.signer': 'ci',
      'org.example.n': '1',
    });
    expect(root.referrers[0]?.referrers).toMatchObject([
      { artifactType: NESTED, digest: g.nested, annotations: { 'org.example.depth': '2' } },
    ]);

    // registry:2 has no referrers API: the sha256-<hex> tags hold the indexes.
    const hex = (digest: string) => `sha256-${digest.slice('sha256:'.length)}`;
    expect([...linesOf(tags.stdout)].sort()).toEqual(['v1', hex(g.subject), hex(g.sbom)].sort());
    expect(plain.stdout).toBe('v1\n');
  });

  it('copy to another repository mounts the blobs; by digest; cp alias with --format json', async () => {
    await writeInputs(fx);
    const source = fx.repo('copy-src');
    const digest = digestLine(await fx.ok(['push', `${source}:v1`, 'a.txt', 'data']));
    const target = fx.repo('copy-dst');

    const copied = await fx.ok(['copy', `${source}:v1`, `${target}:c1`]);
    expect(statusNames(copied.stdout, 'Mounted')).toEqual(['a.txt', 'data', EMPTY_CONFIG].sort());
    expect(statusNames(copied.stdout, 'Copied')).toEqual([MANIFEST]);
    expect(linesOf(copied.stdout).slice(-2)).toEqual([
      `Copied [registry] ${source}:v1 => [registry] ${target}:c1`,
      `Digest: ${digest}`,
    ]);

    const byDigest = fx.repo('copy-digest');
    const [plain, alias] = await Promise.all([
      fx.ok(['copy', `${source}@${digest}`, byDigest]),
      fx.run(['cp', `${source}@${digest}`, `${target}:x,y`, '--format', 'json']),
    ]);
    expect(linesOf(plain.stdout).slice(-2)).toEqual([
      `Copied [registry] ${source}@${digest} => [registry] ${byDigest}@${digest}`,
      `Digest: ${digest}`,
    ]);
    expect(jsonOf(alias)).toMatchObject({
      reference: `${target}@${digest}`,
      mediaType: MANIFEST,
      digest,
      tags: ['x', 'y'],
    });
    const [resolved, byDigestTags] = await Promise.all([
      fx.ok(['resolve', `${target}:y`]),
      fx.run(['repo', 'tags', byDigest]),
    ]);
    expect(resolved.stdout).toBe(`${digest}\n`);
    expect(byDigestTags.stdout).toBe(''); // copied by digest, no tag given: none made
  });

  it('cp -r copies the referrers too (discover on the copy shows them)', async () => {
    const g = await pushWithReferrers(fx, 'copy-r');
    const target = fx.repo('copy-r-dst');
    const copied = await fx.ok(['cp', '-r', `${g.repo}:v1`, `${target}:v1`]);
    expect(statusNames(copied.stdout, 'Copied')).toEqual([MANIFEST, MANIFEST, MANIFEST, MANIFEST]);
    const [source, copy] = await Promise.all([
      fx.run(['discover', `${g.repo}:v1`, '--format', 'json']),
      fx.run(['discover', `${target}:v1`, '--format', 'json']),
    ]);
    expect(shape(jsonOf<Referrer>(copy))).toEqual(shape(jsonOf<Referrer>(source)));
  });

  it('tag adds tags that resolve to the same digest; resolve -l prints the full reference', async () => {
    await writeInputs(fx);
    const repo = fx.repo('tag');
    const digest = digestLine(await fx.ok(['push', `${repo}:v1`, 'a.txt']));
    const tagged = await fx.ok(['tag', `${repo}:v1`, 'stable', 'latest']);
    expect(tagged.stdout).toBe(`Tagged     stable\nTagged     latest\nDigest: ${digest}\n`);
    const [short, full, json] = await Promise.all([
      fx.ok(['resolve', `${repo}:stable`]),
      fx.ok(['resolve', '-l', `${repo}:latest`]),
      fx.run(['resolve', `${repo}:latest`, '--format', 'json']),
    ]);
    expect(short.stdout).toBe(`${digest}\n`);
    expect(full.stdout).toBe(`${repo}@${digest}\n`);
    expect(jsonOf(json)).toMatchObject({ reference: `${repo}@${digest}`, digest });
  });
}
