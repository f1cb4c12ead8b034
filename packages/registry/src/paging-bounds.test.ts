/**
 * Issue 13 item 9: a registry whose list never ends. Each page names a new next page, so the
 * loop check (a URL seen twice) never fires; ferry must stop with an error that says so rather
 * than follow it for ever or show a cut list as if it were whole.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaType } from '@ferry/oci';
import { FerryError } from '@ferry/oci';
import { MAX_LIST_PAGES } from './paging.js';
import { MAX_REFERRERS_PAGES } from './referrers.js';
import { Registry } from './registry.js';
import { json, startLoopback, type LoopbackServer } from './testing/loopback.js';

let server: LoopbackServer;
beforeEach(async () => {
  server = await startLoopback();
});
afterEach(() => server.close());

const SUBJECT = `sha256:${'a'.repeat(64)}`;

describe('endless pagination (issue 13 item 9)', () => {
  it('tags: a Link that always names a new page stops at the page bound with a clear error', async () => {
    server.handle = (req, res) => {
      const page = Number(new URL(req.url ?? '/', server.origin).searchParams.get('page') ?? 0);
      json(
        res,
        200,
        { name: 'a/b', tags: [`t${page}`] },
        {
          link: `</v2/a/b/tags/list?page=${page + 1}>; rel="next"`,
        },
      );
    };
    const client = new Registry(server.host);
    const error = await client
      .repository('a/b')
      .tags({ maxPages: 50 })
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).message).toBe(
      "/v2/a/b/tags/list: the registry's list goes on past 50 pages (50 tags so far); stopped, as it may never end",
    );
    expect(server.requests).toHaveLength(50);
    expect(MAX_LIST_PAGES).toBe(10_000);
  });

  it('referrers: the 1,000-page bound is an error, not a silently cut list', async () => {
    server.handle = (req, res) => {
      const page = Number(new URL(req.url ?? '/', server.origin).searchParams.get('page') ?? 0);
      const digest = `sha256:${page.toString(16).padStart(64, '0')}`;
      json(
        res,
        200,
        {
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [{ mediaType: MediaType.OciManifest, digest, size: 2 }],
        },
        {
          'content-type': MediaType.OciIndex,
          link: `</v2/a/b/referrers/${SUBJECT}?page=${page + 1}>; rel="next"`,
        },
      );
    };
    const client = new Registry(server.host);
    const error = await client
      .repository('a/b')
      .referrers(SUBJECT, { maxPages: 20 })
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).message).toBe(
      `referrers of ${SUBJECT}: the registry's list goes on past 20 pages (20 referrers so far); stopped, as it may never end`,
    );
    expect(server.requests).toHaveLength(20);
    expect(MAX_REFERRERS_PAGES).toBe(1000);
  });
});
