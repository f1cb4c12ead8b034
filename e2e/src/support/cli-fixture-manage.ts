// manifest fetch/push/delete, blob fetch/push/delete and repo ls end to end.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  EMPTY_CONFIG,
  MANIFEST,
  digestLine,
  digestOf,
  linesOf,
  type CliFixture,
} from './cli-fixture.js';
import { writeInputs } from './cli-fixture-push.js';

/** A manifest written by hand (odd spacing, so only a byte-exact round trip keeps its digest). */
function handWritten(text: string, note: string): string {
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest: digestOf(text),
    size: Buffer.byteLength(text),
    annotations: { 'org.opencontainers.image.title': 'a.txt' },
  };
  return (
    `{ "schemaVersion": 2,\n  "mediaType": "${MANIFEST}",\n` +
    `  "artifactType": "application/vnd.ferry.hand",\n` +
    `  "config": { "mediaType": "${EMPTY_CONFIG}", "digest": "${digestOf('{}')}", "size": 2 },\n` +
    `  "layers": [ ${JSON.stringify(layer)} ],\n` +
    `  "annotations": { "org.example.note": "${note}" } }\n`
  );
}

export function manageTests(fx: CliFixture): void {
  it('manifest fetch prints the stored bytes (hashing to resolve’s digest), --descriptor, --pretty', async () => {
    await writeInputs(fx);
    const repo = fx.repo('fetch');
    await fx.ok(['push', `${repo}:v1`, 'a.txt', '-a', 'org.example.k=v']);
    const [resolved, raw, descriptor, pretty] = await Promise.all([
      fx.ok(['resolve', `${repo}:v1`]),
      fx.ok(['manifest', 'fetch', `${repo}:v1`, '-o', 'manifest.json']),
      fx.ok(['manifest', 'fetch', `${repo}:v1`, '--descriptor']),
      fx.ok(['manifest', 'fetch', `${repo}:v1`, '--pretty']),
    ]);
    const digest = linesOf(resolved.stdout)[0] ?? '';
    const bytes = await readFile(join(fx.dir, 'manifest.json'));
    expect(raw.stdout).toBe('');
    expect(digestOf(bytes)).toBe(digest);
    expect(JSON.parse(descriptor.stdout)).toEqual({
      mediaType: MANIFEST,
      digest,
      size: bytes.length,
    });
    expect(pretty.stdout).toBe(`${JSON.stringify(JSON.parse(bytes.toString()), null, 2)}\n`);
    expect(pretty.stdout).not.toBe(bytes.toString());

    const config = await fx.ok(['manifest', 'fetch-config', `${repo}:v1`, '--descriptor']);
    expect(JSON.parse(config.stdout)).toMatchObject({
      mediaType: EMPTY_CONFIG,
      digest: digestOf('{}'),
      size: 2,
    });
  });

  it('manifest push sends a hand-written file as is', async () => {
    const { text: a } = await writeInputs(fx);
    const repo = fx.repo('mpush');
    await fx.ok(['push', `${repo}:v1`, 'a.txt']); // the blobs the manifest names
    const text = handWritten(a, 'from a file');
    await fx.write('hand.json', text);
    const pushed = await fx.ok(['manifest', 'push', `${repo}:hand`, 'hand.json']);
    expect(pushed.stdout).toBe(`Pushed [registry] ${repo}:hand\nDigest: ${digestOf(text)}\n`);
    const fetched = await fx.ok(['manifest', 'fetch', `${repo}:hand`]);
    expect(fetched.stdout).toBe(text);
  });

  it('manifest push - reads the manifest from stdin', async () => {
    const { text: a } = await writeInputs(fx);
    const repo = fx.repo('mpush-stdin');
    await fx.ok(['push', `${repo}:v1`, 'a.txt']);
    const text = handWritten(a, 'from stdin');
    const pushed = await fx.run(['manifest', 'push', `${repo}:piped`, '-'], { input: text });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(digestLine(pushed)).toBe(digestOf(text));
    expect((await fx.ok(['manifest', 'fetch', `${repo}:piped`])).stdout).toBe(text);
  });

  it('manifest delete needs --force when not interactive; then the tag is gone', async () => {
    await writeInputs(fx);
    const repo = fx.repo('mdelete');
    const digest = digestLine(await fx.ok(['push', `${repo}:v1`, 'a.txt']));

    const refused = await fx.run(['manifest', 'delete', `${repo}:v1`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^Error: .*Refusing without --force/);
    expect((await fx.ok(['resolve', `${repo}:v1`])).stdout).toBe(`${digest}\n`);

    const deleted = await fx.ok(['manifest', 'delete', `${repo}:v1`, '--force']);
    expect(deleted.stdout).toBe(`Deleted [registry] ${repo}:v1\nDigest: ${digest}\n`);
    const gone = await fx.run(['resolve', `${repo}:v1`]);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toBe('');
    const [error, hint] = linesOf(gone.stderr);
    expect(error).toMatch(/^Error: /);
    expect(hint).toBe(
      `Hint: the tag "v1" was not found in repository ${repo}; list tags with: ferry repo tags ${repo}`,
    );
  });

  it('blob push, fetch (-o file, -o -, --descriptor) and delete --force', async () => {
    const bytes = randomBytes(300 * 1024 + 7);
    await fx.write('blob.bin', bytes);
    const digest = digestOf(bytes);
    const repo = fx.repo('blob');
    const pushed = await fx.ok(['blob', 'push', repo, 'blob.bin']);
    expect(pushed.stdout).toBe(`Pushed [registry] ${repo}\nDigest: ${digest}\n`);

    const [toFile, toStdout, descriptor] = await Promise.all([
      fx.ok(['blob', 'fetch', `${repo}@${digest}`, '-o', 'fetched.bin']),
      fx.ok(['blob', 'fetch', `${repo}@${digest}`, '-o', '-']),
      fx.ok(['blob', 'fetch', `${repo}@${digest}`, '--descriptor']),
    ]);
    expect(toFile.stdout).toBe('');
    expect((await readFile(join(fx.dir, 'fetched.bin'))).equals(bytes)).toBe(true);
    expect(toStdout.bytes.equals(bytes)).toBe(true);
    expect(JSON.parse(descriptor.stdout)).toEqual({
      mediaType: 'application/octet-stream',
      digest,
      size: bytes.length,
    });

    const deleted = await fx.ok(['blob', 'delete', `${repo}@${digest}`, '--force']);
    expect(deleted.stdout).toBe(`Deleted [registry] ${repo}@${digest}\n`);
    const gone = await fx.run(['blob', 'fetch', `${repo}@${digest}`, '-o', 'again.bin']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^Error: .*not found/);
  });

  it('blob push - streams stdin and prints its digest', async () => {
    const text = `stdin blob ${Math.random()}\n`;
    const repo = fx.repo('blob-stdin');
    const pushed = await fx.run(['blob', 'push', repo, '-'], { input: text });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toBe(`Pushed [registry] ${repo}\nDigest: ${digestOf(text)}\n`);
    const fetched = await fx.ok(['blob', 'fetch', `${repo}@${digestOf(text)}`, '-o', '-']);
    expect(fetched.stdout).toBe(text);
  });

  it('repo ls lists the registry, and a namespace relative to it', async () => {
    await writeInputs(fx);
    const namespace = fx.repo('ls');
    await Promise.all([
      fx.ok(['push', `${namespace}/alpha:v1`, 'a.txt']),
      fx.ok(['push', `${namespace}/beta/gamma:v1`, 'a.txt']),
    ]);
    const path = namespace.slice(fx.host.length + 1);
    const [all, under] = await Promise.all([
      fx.ok(['repo', 'ls', fx.host]),
      fx.ok(['repo', 'ls', namespace]),
    ]);
    expect(linesOf(all.stdout)).toEqual(
      expect.arrayContaining([`${path}/alpha`, `${path}/beta/gamma`]),
    );
    expect(under.stdout).toBe('alpha\nbeta/gamma\n');
  });
}
