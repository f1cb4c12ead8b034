// `ferry backup` and `ferry restore` against registry:2: every tag (or the named ones) with its
// blobs into an OCI layout directory or a tar, referrers when asked, and a restore into another
// repository that gives the same digests.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import {
  discoverAll,
  ferryBytes,
  ferryOk,
  pushedDigest,
  resolveDigest,
  scratch,
  sha256,
  skopeoOk,
} from './support/interop-tools.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: TestRegistry;
/** A second registry:2, for a restore that crosses registries. */
let other: TestRegistry;
let work: string;
let repo: string;
let v1: string;
let v2: string;
let sbom: string;
const dirs = scratch('backup');

beforeAll(async () => {
  [registry, other] = await Promise.all([
    startRegistry({ mode: 'anonymous' }),
    startRegistry({ mode: 'anonymous' }),
  ]);
  work = await dirs.make();
  repo = `${registry.host}/app`;
  await writeFile(join(work, 'a.txt'), 'version one\n');
  await writeFile(join(work, 'b.txt'), 'version two\n');
  await writeFile(join(work, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}\n');
  v1 = await pushedDigest(work, 'push', `${repo}:v1`, 'a.txt');
  v2 = await pushedDigest(work, 'push', `${repo}:v2`, 'b.txt');
  sbom = await pushedDigest(
    work,
    'attach',
    `${repo}:v1`,
    'sbom.json',
    '--artifact-type',
    'application/spdx+json',
  );
});

afterAll(async () => {
  await Promise.all([registry?.stop(), other?.stop()]);
  await dirs.cleanup();
});

async function layoutTags(dir: string): Promise<string[]> {
  return (await ferryOk('repo', 'tags', '--oci-layout', dir)).trim().split('\n').sort();
}

describe('ferry backup', () => {
  it('backs up every tag (not the referrers tag) with referrers into a directory skopeo reads', async () => {
    const out = join(await dirs.make(), 'app-backup');
    const text = await ferryOk('backup', '--output', out, '--include-referrers', repo);
    // ORAS's summary lines, with a status line per blob and manifest between them.
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`Found 2 tag(s) in ${repo}: v1, v2`);
    expect(lines.filter((line) => / tag v\d and /.test(line))).toEqual([
      'Pulled tag v1 and 1 referrer(s)',
      'Pulled tag v2 and 0 referrer(s)',
    ]);
    expect(lines.at(-1)).toBe(`Successfully backed up 2 tag(s) from ${repo} to ${out}`);
    expect(lines).toContain(`Pulled     ${MANIFEST}  ${v1.slice(7, 19)}`);
    expect(lines).toContain(`Pulled     a.txt  ${sha256('version one\n').slice(7, 19)}`);
    expect(await layoutTags(out)).toEqual(['v1', 'v2']);
    expect(await resolveDigest('--oci-layout', `${out}:v1`)).toBe(v1);
    expect(await discoverAll('--oci-layout', `${out}:v1`)).toEqual([
      `application/spdx+json@${sbom}`,
    ]);
    // skopeo reads the layout ferry wrote.
    expect(sha256(await skopeoOk('inspect', '--raw', `oci:${out}:v2`))).toBe(v2);
  });

  it('backs up named tags into a tar (no staging left), without referrers unless asked', async () => {
    const dir = await dirs.make();
    const tar = join(dir, 'app.tar');
    const result = JSON.parse(
      await ferryOk('backup', '--output', tar, `${repo}:v1`, '--format', 'json'),
    ) as { tags: { tag: string; digest: string; referrers: number }[]; size: number };
    expect(result.tags).toEqual([expect.objectContaining({ tag: 'v1', digest: v1, referrers: 0 })]);
    expect(result.size).toBe((await stat(tar)).size);
    expect(await readdir(dir)).toEqual(['app.tar']);
    // The tar is an OCI layout at its root: skopeo's oci-archive reads it.
    const raw = await skopeoOk('inspect', '--raw', `oci-archive:${tar}:v1`);
    expect(sha256(raw)).toBe(v1);
  });

  it('resumes a tar backup from its staging layout: blobs already there are not fetched again', async () => {
    const resume = `${registry.host}/resume`; // its own: a blob is deleted below
    await writeFile(join(work, 'c.txt'), 'resumable\n');
    const digest = await pushedDigest(work, 'push', `${resume}:r1`, 'c.txt');
    const manifest = JSON.parse(
      (await ferryBytes(['manifest', 'fetch', `${resume}@${digest}`])).stdout.toString(),
    ) as { layers: { digest: string }[] };
    const dir = await dirs.make();
    // An earlier run stopped after fetching everything into the staging layout...
    await ferryOk('backup', '--output', join(dir, '.r.tar.ferry-backup'), `${resume}:r1`);
    // ...and the registry has since lost the layer: only a resumed run can still finish.
    await ferryOk('blob', 'delete', `${resume}@${manifest.layers[0]?.digest}`, '--force');
    const second = await ferryOk('backup', '--output', join(dir, 'r.tar'), `${resume}:r1`);
    expect(second).toContain(`Exists     ${MANIFEST}  ${digest.slice(7, 19)}\n`);
    expect(second).not.toMatch(/^Pulled {5}c\.txt/m);
    expect(await readdir(dir)).toEqual(['r.tar']);
    const target = `${registry.host}/resumed/app`;
    await ferryOk('restore', '--input', join(dir, 'r.tar'), target);
    const pulled = await dirs.make();
    await ferryOk('pull', `${target}:r1`, '-o', pulled);
    expect(await readFile(join(pulled, 'c.txt'), 'utf8')).toBe('resumable\n');
  });

  it('refuses a tag the repository lacks, leaving no tar behind', async () => {
    const dir = await dirs.make();
    const result = await ferryBytes(['backup', '--output', join(dir, 'x.tar'), `${repo}:nope`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nope');
    // Nothing was fetched, so the staging layout it made is gone too.
    expect(await readdir(dir)).toEqual([]);
    expect(result.stderr).not.toContain('kept in');
  });

  it('keeps what a failed tar backup fetched, says where, and goes on from it', async () => {
    const dir = await dirs.make();
    const tar = join(dir, 'y.tar');
    const failed = await ferryBytes(['backup', '--output', tar, `${repo}:v1,nope`]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('nope');
    const staging = join(dir, '.y.tar.ferry-backup');
    // v1's manifest, config and layer are in the staging layout, and the user is told so.
    expect(failed.stderr).toContain(`Note: 3 blob(s) fetched so far are kept in "${staging}"`);
    expect(await readdir(dir)).toEqual(['.y.tar.ferry-backup']);
    const again = await ferryOk('backup', '--output', tar, `${repo}:v1`);
    expect(again).toContain(`Exists     ${MANIFEST}  ${v1.slice(7, 19)}\n`);
    expect(await readdir(dir)).toEqual(['y.tar']);
  });
});

describe('ferry restore', () => {
  it('restores a tar into another registry with identical digests and referrers', async () => {
    const dir = await dirs.make();
    const tar = join(dir, 'all.tar');
    await ferryOk('backup', '--output', tar, '--include-referrers', repo);
    const target = `${other.host}/restored/app`; // another registry
    const text = await ferryOk('restore', '--input', tar, target);
    expect(await readdir(dir)).toEqual(['all.tar']); // the extraction beside it is gone
    expect(text).toContain('Pushed tag v1 and 1 referrer(s)\n');
    expect(text).toContain(`Successfully restored 2 tag(s) to ${target}\n`);
    expect(await resolveDigest(`${target}:v1`)).toBe(v1);
    expect(await resolveDigest(`${target}:v2`)).toBe(v2);
    expect(await discoverAll(`${target}:v1`)).toEqual([`application/spdx+json@${sbom}`]);
    const pulled = await dirs.make();
    await ferryOk('pull', `${target}:v2`, '-o', pulled);
    expect(await readFile(join(pulled, 'b.txt'), 'utf8')).toBe('version two\n');
    // Run again: everything is there already, nothing changes.
    await ferryOk('restore', '--input', tar, target);
    expect(await resolveDigest(`${target}:v1`)).toBe(v1);
  });

  it('restores named tags from a directory, --exclude-referrers, and --dry-run pushes nothing', async () => {
    const out = join(await dirs.make(), 'layout');
    await ferryOk('backup', '--output', out, '--include-referrers', repo);
    const dry = `${registry.host}/dry/app`;
    const planned = await ferryOk('restore', '--input', out, '--dry-run', `${dry}:v1`);
    expect(planned).toContain('Would push tag v1 and 1 referrer(s)\n');
    expect((await ferryBytes(['resolve', `${dry}:v1`])).code).toBe(1);

    const target = `${registry.host}/only/app`;
    await ferryOk('restore', '--input', out, '--exclude-referrers', `${target}:v1`);
    expect(await resolveDigest(`${target}:v1`)).toBe(v1);
    expect(await discoverAll(`${target}:v1`)).toEqual([]);
    expect((await ferryBytes(['resolve', `${target}:v2`])).code).toBe(1);

    // A backup whose index.json names something that is no tag: skipped, and shown escaped.
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    const first = index.manifests[0];
    index.manifests.push({
      ...first,
      annotations: { 'org.opencontainers.image.ref.name': 'evil\u001b[2J tag' },
    });
    await writeFile(join(out, 'index.json'), JSON.stringify(index));
    const hostile = `${registry.host}/hostile/app`;
    const skipped = await ferryBytes(['restore', '--input', out, hostile]);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain('"evil\\u001b[2J tag"');
    expect(skipped.stderr).not.toContain('\u001b');
    expect(skipped.stdout.toString()).toContain('Successfully restored 2 tag(s)');

    const missing = await ferryBytes(['restore', '--input', out, `${target}:v9`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('tag v9 is not in the backup');
  });
});
