// `--format json` keeps the README's promise for every command that can run without a registry
// (an OCI layout stands in for one): one JSON object with reference, mediaType, digest and size.
// The bottle commands, which need a registry, are checked in e2e/src/cli-json-output.test.ts.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkResultDocument } from './result-schema.js';
import { runCaptured } from './run-captured.js';

let dir = '';
let cwd = '';
let layout = '';
const hello = 'hello, json\n';
const helloDigest = `sha256:${createHash('sha256').update(hello).digest('hex')}`;

async function json(...argv: string[]) {
  const result = await runCaptured(...argv, '--format', 'json');
  expect(result.code, result.stderr).toBe(0);
  expect(checkResultDocument(result.stdout), result.stdout).toEqual([]);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  cwd = process.cwd();
  dir = await mkdtemp(join(tmpdir(), 'ferry-json-'));
  process.chdir(dir);
  await writeFile('hello.txt', hello);
  await writeFile('config.json', '{"answer":42}');
  layout = join(dir, 'layout');
});

afterAll(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

describe('--format json: one document with reference, mediaType, digest, size', () => {
  it('push, and every command that reads what it pushed', async () => {
    const pushed = await json(
      'push',
      '--oci-layout',
      `${layout}:v1`,
      'hello.txt',
      '--config',
      'config.json:application/vnd.example.config+json',
      '--artifact-type',
      'application/vnd.example',
    );
    const manifestDigest = pushed.digest as string;
    expect(pushed.reference).toBe(`${layout}@${manifestDigest}`);

    // manifest fetch: the manifest itself in `content`, as ORAS puts it.
    const fetched = await json('manifest', 'fetch', '--oci-layout', `${layout}:v1`);
    expect(fetched).toMatchObject({ digest: manifestDigest, size: pushed.size });
    expect((fetched.content as { layers: { digest: string }[] }).layers[0]?.digest).toBe(
      helloDigest,
    );
    // … also when the manifest is written to a file: the file gets the exact bytes.
    const toFile = await json('manifest', 'fetch', '--oci-layout', `${layout}:v1`, '-o', 'm.json');
    expect(toFile.content).toEqual(fetched.content);
    const bytes = await readFile('m.json');
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(manifestDigest);
    await json('manifest', 'fetch', '--oci-layout', `${layout}:v1`, '--descriptor');

    // fetch-config: the config descriptor and the config (parsed) in `content`; not `{}`.
    const config = await json('manifest', 'fetch-config', '--oci-layout', `${layout}:v1`);
    expect(config).toMatchObject({
      mediaType: 'application/vnd.example.config+json',
      size: 13,
      content: { answer: 42 },
    });

    // blob fetch -o <file>: the file written, and the document says what and where.
    const blob = await json('blob', 'fetch', '--oci-layout', `${layout}@${helloDigest}`, '-o', 'b');
    expect(blob).toMatchObject({ digest: helloDigest, size: hello.length, path: join(dir, 'b') });
    expect(await readFile('b', 'utf8')).toBe(hello);
    await json('blob', 'fetch', '--oci-layout', `${layout}@${helloDigest}`, '--descriptor');

    const pulled = await json('pull', '--oci-layout', `${layout}:v1`, '-o', 'out');
    expect(pulled.digest).toBe(manifestDigest);
    expect(await readFile(join('out', 'hello.txt'), 'utf8')).toBe(hello);

    await json('resolve', '--oci-layout', `${layout}:v1`);
    await json('tag', '--oci-layout', `${layout}:v1`, 'v2');
    const copied = await json(
      'cp',
      '--from-oci-layout',
      '--to-oci-layout',
      `${layout}:v1`,
      `${layout}-copy:v1`,
    );
    expect(copied.reference).toBe(`${layout}-copy@${manifestDigest}`);
    await json('attach', '--oci-layout', `${layout}:v1`, '--artifact-type', 'x/y', 'hello.txt');
    await json('discover', '--oci-layout', `${layout}:v1`);
    await json('blob', 'push', '--oci-layout', layout, 'config.json');
    await json('manifest', 'push', '--oci-layout', `${layout}:v3`, 'm.json');
  });

  it('results that name no content are still one JSON object', async () => {
    const tags = await runCaptured('repo', 'tags', '--oci-layout', layout, '--format', 'json');
    expect(tags.code, tags.stderr).toBe(0);
    expect(checkResultDocument(tags.stdout, { content: false })).toEqual([]);
    const version = await runCaptured('version', '--format', 'json');
    expect(checkResultDocument(version.stdout, { content: false })).toEqual([]);
  });

  it('content for stdout (-o -) and JSON cannot share it: a usage error, nothing written', async () => {
    for (const argv of [
      ['pull', '--oci-layout', `${layout}:v1`, '-o', '-'],
      ['blob', 'fetch', '--oci-layout', `${layout}@${helloDigest}`, '-o', '-'],
    ]) {
      const result = await runCaptured(...argv, '--format', 'json');
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^Error: --format json prints one JSON document on stdout, so the (file|blob) cannot go there too: write it to a file with -o <file>/,
      );
    }
  });
});

describe('the schema itself', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const good = { reference: `r/x@${digest}`, mediaType: 'm', digest, size: 1 };

  it('accepts a full result and refuses what the README rules out', () => {
    expect(checkResultDocument(JSON.stringify(good))).toEqual([]);
    expect(checkResultDocument('[]')).toEqual(['want one JSON object, got an array']);
    expect(checkResultDocument('{}')).toHaveLength(4);
    expect(checkResultDocument(JSON.stringify({ ...good, reference: 'r/x:v1' }))).toEqual([
      expect.stringMatching(/^reference: want a string ending in @<digest>/),
    ]);
    expect(checkResultDocument(JSON.stringify({ ...good, size: undefined }))).toEqual([
      expect.stringMatching(/^size: /),
    ]);
    expect(checkResultDocument('{"a":1}\n{"b":2}')[0]).toMatch(/^not one JSON document/);
  });

  it('checks nested results (bottles, images, referrers) the same way', () => {
    const nested = { ...good, bottles: [good, { ...good, reference: 'r/x:1.0' }] };
    expect(checkResultDocument(JSON.stringify(nested))).toEqual([
      expect.stringMatching(/^bottles\[1\]\.reference: /),
    ]);
  });
});

describe('where output goes (README "Where output goes")', () => {
  it('status lines and results on stdout, nothing on stderr; with --format json only the document', async () => {
    const text = await runCaptured('push', '--oci-layout', `${layout}:streams`, 'hello.txt');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`Exists     hello.txt  ${helloDigest.slice(7, 19)}`);
    expect(lines.at(-2)).toMatch(/^Digest: sha256:[0-9a-f]{64}$/);

    const json = await runCaptured(
      'push',
      '--oci-layout',
      `${layout}:streams`,
      'hello.txt',
      '--format',
      'json',
    );
    expect(json.stderr).toBe('');
    expect(json.stdout).not.toMatch(/^(Exists|Uploaded) /m);
    expect(checkResultDocument(json.stdout)).toEqual([]);
  });
});
