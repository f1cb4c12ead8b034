// `ferry push` end to end: layers, annotations, config, manifest flavours, reproducibility, stdin.
import { readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  EMPTY_CONFIG,
  MANIFEST,
  digestLine,
  digestOf,
  jsonOf,
  linesOf,
  statusNames,
  type CliFixture,
  type Manifest,
} from './cli-fixture.js';

const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DEFAULT_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const CREATED = 'org.opencontainers.image.created';

/** A small tree to push: one file and one directory with a nested file. */
export async function writeInputs(fx: CliFixture): Promise<{ text: string }> {
  const text = `hello from ${fx.mode} ${Math.random()}\n`;
  await fx.write('a.txt', text);
  await fx.write('data/y.txt', 'why\n');
  await fx.write('data/sub/x.bin', Buffer.from([0, 1, 2, 255, 254, 10, 13]));
  return { text };
}

export function pushTests(fx: CliFixture): void {
  it('pushes files with media types and a directory, with flag and file annotations', async () => {
    const { text } = await writeInputs(fx);
    const repo = fx.repo('push');
    await fx.write(
      'annotations.json',
      JSON.stringify({
        $manifest: { 'org.example.from-file': 'manifest' },
        $config: { 'org.example.config': 'yes' },
        'a.txt': { 'org.example.file': 'a' },
        data: { 'org.example.dir': 'd' },
      }),
    );
    const pushed = await fx.ok([
      'push',
      `${repo}:v1,v2`,
      'a.txt:text/plain',
      'data',
      '-a',
      'org.example.one=1',
      '-a',
      'org.example.two=x=y',
      '--annotation-file',
      'annotations.json',
      '--artifact-type',
      'application/vnd.ferry.test',
      '--export-manifest',
      'exported.json',
    ]);
    const digest = digestLine(pushed);
    expect(linesOf(pushed.stdout).slice(-3)).toEqual([
      `Pushed [registry] ${repo}:v1,v2`,
      'ArtifactType: application/vnd.ferry.test',
      `Digest: ${digest}`,
    ]);
    expect(statusNames(pushed.stdout, 'Uploaded')).toEqual(
      ['a.txt', 'data', EMPTY_CONFIG, MANIFEST].sort(),
    );

    const exported = await readFile(join(fx.dir, 'exported.json'));
    expect(digestOf(exported)).toBe(digest);
    const fetched = await fx.ok(['manifest', 'fetch', `${repo}:v2`]);
    expect(fetched.bytes.equals(exported)).toBe(true);

    const manifest = JSON.parse(exported.toString('utf8')) as Manifest;
    expect(manifest.mediaType).toBe(MANIFEST);
    expect(manifest.artifactType).toBe('application/vnd.ferry.test');
    expect(manifest.annotations).toEqual({
      'org.example.from-file': 'manifest',
      'org.example.one': '1',
      'org.example.two': 'x=y',
    });
    expect(manifest.config).toMatchObject({
      mediaType: EMPTY_CONFIG,
      digest: digestOf('{}'),
      size: 2,
      annotations: { 'org.example.config': 'yes' },
    });
    const [file, dir] = manifest.layers;
    expect(file).toEqual({
      mediaType: 'text/plain',
      digest: digestOf(text),
      size: Buffer.byteLength(text),
      annotations: { 'org.opencontainers.image.title': 'a.txt', 'org.example.file': 'a' },
    });
    expect(dir?.mediaType).toBe(TAR_GZIP);
    expect(dir?.annotations).toMatchObject({
      'org.opencontainers.image.title': 'data',
      'io.deis.oras.content.unpack': 'true',
      'org.example.dir': 'd',
    });
    expect(dir?.annotations?.['io.deis.oras.content.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(manifest.layers).toHaveLength(2);
  });

  it('gives the same digest for the same inputs, even after touch, and says what Exists', async () => {
    await writeInputs(fx);
    const repo = fx.repo('repro');
    const first = await fx.ok(['push', `${repo}:v1`, 'a.txt', 'data', '--format', 'json']);
    const one = jsonOf<{ digest: string; annotations: Record<string, string> }>(first);
    expect(one.annotations).toEqual({}); // no timestamp unless asked for
    const later = new Date(Date.now() + 3_600_000);
    for (const path of ['a.txt', 'data', 'data/y.txt', 'data/sub', 'data/sub/x.bin'])
      await utimes(join(fx.dir, path), later, later);
    const second = await fx.ok(['push', `${repo}:v2`, 'a.txt', 'data']);
    expect(digestLine(second)).toBe(one.digest);
    expect(statusNames(second.stdout, 'Exists')).toEqual(['a.txt', 'data', EMPTY_CONFIG].sort());
    expect(statusNames(second.stdout, 'Uploaded')).toEqual([MANIFEST]);
  });

  it('--format json describes the push; SOURCE_DATE_EPOCH adds a fixed created time', async () => {
    await writeInputs(fx);
    const repo = fx.repo('json');
    const args = ['push', `${repo}:v1,latest`, 'a.txt', '--format', 'json'];
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const result = jsonOf<Record<string, unknown>>(await fx.run(args, { env }));
    const digest = result.digest as string;
    const fetched = await fx.ok(['manifest', 'fetch', `${repo}@${digest}`]);
    expect(result).toEqual({
      reference: `${repo}@${digest}`,
      mediaType: MANIFEST,
      digest: digestOf(fetched.bytes),
      size: fetched.bytes.length,
      artifactType: 'application/vnd.unknown.artifact.v1',
      annotations: { [CREATED]: '2023-11-14T22:13:20Z' },
      referenceAsTags: [`${repo}:v1`, `${repo}:latest`],
    });
    const manifest = JSON.parse(fetched.stdout) as Manifest;
    expect(manifest.annotations?.[CREATED]).toBe('2023-11-14T22:13:20Z');
    expect(manifest.layers[0]?.mediaType).toBe(DEFAULT_LAYER);
    // The same epoch gives the same digest again.
    const again = jsonOf<{ digest: string }>(await fx.run(args, { env }));
    expect(again.digest).toBe(digest);
  });

  it('--config file:type with --image-spec v1.0 puts the type on the config, no artifactType', async () => {
    await writeInputs(fx);
    const repo = fx.repo('config');
    const config = '{"architecture":"none","ferry":true}\n';
    await fx.write('config.json', config);
    const type = 'application/vnd.ferry.config.v1+json';
    const pushed = await fx.ok([
      'push',
      `${repo}:v1`,
      'a.txt',
      '--config',
      `config.json:${type}`,
      '--image-spec',
      'v1.0',
    ]);
    expect(linesOf(pushed.stdout)).toContain(`ArtifactType: ${type}`);
    const [fetched, fetchedConfig, typed] = await Promise.all([
      fx.ok(['manifest', 'fetch', `${repo}:v1`]),
      fx.ok(['manifest', 'fetch-config', `${repo}:v1`]),
      fx.ok([
        'push',
        `${repo}:v2`,
        'a.txt',
        '--image-spec',
        'v1.0',
        '--artifact-type',
        'application/vnd.ferry.typed',
        '--export-manifest',
        'v2.json',
      ]),
    ]);
    const manifest = JSON.parse(fetched.stdout) as Manifest;
    expect(manifest).not.toHaveProperty('artifactType');
    expect(manifest.config).toEqual({
      mediaType: type,
      digest: digestOf(config),
      size: Buffer.byteLength(config),
    });
    expect(fetchedConfig.stdout).toBe(config);

    expect(linesOf(typed.stdout)).toContain('ArtifactType: application/vnd.ferry.typed');
    const v2 = JSON.parse(await readFile(join(fx.dir, 'v2.json'), 'utf8')) as Manifest;
    expect(v2).not.toHaveProperty('artifactType');
    expect(v2.config).toEqual({
      mediaType: 'application/vnd.ferry.typed',
      digest: digestOf('{}'),
      size: 2,
    });
  });

  it('pushes stdin (-) under the --title name', async () => {
    const repo = fx.repo('stdin');
    const text = `piped ${Math.random()}\n`;
    const pushed = await fx.run(['push', `${repo}:v1`, '-', '--title', 'notes.txt'], {
      input: text,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const manifest = JSON.parse(
      (await fx.ok(['manifest', 'fetch', `${repo}:v1`])).stdout,
    ) as Manifest;
    expect(manifest.layers).toEqual([
      {
        mediaType: DEFAULT_LAYER,
        digest: digestOf(text),
        size: Buffer.byteLength(text),
        annotations: { 'org.opencontainers.image.title': 'notes.txt' },
      },
    ]);
  });
}
