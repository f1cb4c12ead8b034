/**
 * Issue 13 item 9: a registry serving a referrer chain 3,000 deep. discover walks it level by
 * level (no recursion), stops at the default depth of 100 with a note, takes --depth up to 1,000,
 * and refuses more.
 */
import { createHash } from 'node:crypto';
import type { Descriptor } from '@ferry/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './run-captured.js';
import {
  sendJson,
  startRecordingServer,
  type RecordingServer,
} from './testing/recording-server.js';

const CHAIN = 3000;
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const rootManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: MANIFEST,
  config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
  layers: [],
});
const chain = [sha256(rootManifest)];
for (let i = 1; i <= CHAIN; i++) chain.push(sha256(`referrer ${i}`));
const position = new Map(chain.map((digest, i) => [digest, i]));

let registry: RecordingServer;
const referrerRequests = () =>
  registry.requests.filter((r) => r.url.includes('/referrers/')).length;

beforeAll(async () => {
  registry = await startRecordingServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/chain/manifests/v1') {
      res.writeHead(200, {
        'content-type': MANIFEST,
        'content-length': Buffer.byteLength(rootManifest),
        'docker-content-digest': chain[0]!,
      });
      return res.end(req.method === 'HEAD' ? undefined : rootManifest);
    }
    const match = /^\/v2\/chain\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url);
    const at = match ? position.get(match[1]!) : undefined;
    if (at === undefined) return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    const next = chain[at + 1];
    sendJson(
      res,
      200,
      {
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: next
          ? [{ mediaType: MANIFEST, digest: next, size: 100, artifactType: 'application/x-sig' }]
          : [],
      },
      { 'content-type': INDEX },
    );
  });
});
afterAll(() => registry.close());

describe('discover on a 3,000-deep referrer chain (issue 13 item 9)', () => {
  it('stops at the default depth of 100, with a note, after 100 requests', async () => {
    registry.requests.length = 0;
    const result = await runCaptured('discover', `${registry.host}/chain:v1`, '--plain-http');
    expect(result.code).toBe(0);
    expect(referrerRequests()).toBe(100);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 2 * 100);
    // Each level indents by 8 columns; a digest sits 4 in from its type.
    expect(lines.at(-1)).toBe(`${' '.repeat(8 * 99 + 4)}└── ${chain[100]}`);
    expect(result.stderr).toBe(
      'Note: referrers deeper than 100 levels are not shown; go deeper with --depth (up to 1000)\n',
    );
  });

  it('walks 1,000 levels when asked, without exhausting the stack (JSON nests them all)', async () => {
    registry.requests.length = 0;
    const json = await runCaptured(
      'discover',
      `${registry.host}/chain:v1`,
      '--plain-http',
      '--depth',
      '1000',
      '--format',
      'json',
    );
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(referrerRequests()).toBe(1000);
    let node = JSON.parse(json.stdout) as { digest: string; referrers: unknown[] };
    for (let level = 0; level < 1000; level++) {
      expect(node.digest).toBe(chain[level]);
      node = node.referrers[0] as typeof node;
    }
    expect(node.digest).toBe(chain[1000]);
    expect(node.referrers).toEqual([]);
  });

  it('refuses a --depth past 1,000, or below 1, as a usage error', async () => {
    for (const depth of ['3000', '0', '1.5']) {
      const result = await runCaptured(
        'discover',
        `${registry.host}/chain:v1`,
        '--plain-http',
        '--depth',
        depth,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--depth ${depth}: give a whole number from 1 to 1000 (default 100)`,
      );
    }
  });
});

describe('discover on a wide graph', () => {
  it('refuses a graph of more manifests than the bound, naming it, instead of listing them all', async () => {
    const { walk, MAX_DISCOVER_NODES } = await import('./run/discover.js');
    let asked = 0;
    // Every manifest has 50 referrers of its own.
    const target = {
      referrers: async (subject: { digest: string }) => {
        asked++;
        return Array.from({ length: 50 }, (_, i) => ({
          mediaType: MANIFEST,
          digest: sha256(`${subject.digest}/${i}`) as `sha256:${string}`,
          size: 10,
        }));
      },
    };
    const root = { mediaType: MANIFEST, digest: chain[0]!, size: 10 } as Descriptor;
    const error = await walk(target, root, undefined, 100, 1000).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `${chain[0]} has more than 1,000 referrers in all; narrow the walk with --depth or --artifact-type`,
    );
    // The root, then 19 of its 50 referrers: 1 + 50 + 19 × 50 = 1,001 manifests.
    expect(asked).toBe(20);
    expect(MAX_DISCOVER_NODES).toBe(10_000);
  });
});
