import { FerryError } from '@ferry/oci';
import { RegistryErrorCode } from './errors.js';
import { nextLink } from './referrers.js';
import { readText, responseError, type Transport } from './transport.js';

export interface PageOptions {
  /** Page size asked of the registry. */
  n?: number | undefined;
  /** Start after this entry. */
  last?: string | undefined;
  /** Stop after this many entries in all. */
  limit?: number | undefined;
  /** Refuse to follow more pages than this (default MAX_LIST_PAGES). */
  maxPages?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * A registry that keeps answering `Link: rel="next"` (each time a new URL, so the loop check
 * does not see it) would be followed for ever. Ten thousand pages is a million tags at the
 * page size of the registries that page at all (Docker Hub, GHCR: 100).
 */
export const MAX_LIST_PAGES = 10_000;
/** Entries kept in memory at most, whatever the page count (a page can hold 16 MiB of names). */
export const MAX_LIST_ENTRIES = 1_000_000;

/** Lists `/tags/list` or `/_catalog`, following `Link: <…>; rel="next"` until the end. */
export async function listPaged(
  transport: Transport,
  first: URL,
  scopes: string[],
  field: 'tags' | 'repositories',
  options: PageOptions,
): Promise<string[]> {
  let url: URL | undefined = new URL(first);
  if (options.n !== undefined) url.searchParams.set('n', String(options.n));
  if (options.last !== undefined) url.searchParams.set('last', options.last);
  const items: string[] = [];
  const seen = new Set<string>();
  const maxPages = options.maxPages ?? MAX_LIST_PAGES;
  while (url) {
    if (seen.size >= maxPages) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `${first.pathname}: the registry's list goes on past ${maxPages.toLocaleString('en-US')} pages (${items.length.toLocaleString('en-US')} ${field} so far); stopped, as it may never end`,
      );
    }
    if (seen.has(url.href)) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `${first.pathname}: the registry's Link pagination loops`,
      );
    }
    seen.add(url.href);
    const response = await transport.send({ method: 'GET', url, scopes, signal: options.signal });
    if (response.status !== 200) throw await responseError(response, 'GET');
    const text = await readText(response, 16 * 1024 * 1024);
    let page: unknown;
    try {
      page = (JSON.parse(text) as Record<string, unknown>)[field];
    } catch (error) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `${first.pathname}: the response is not JSON`,
        { cause: error },
      );
    }
    // registry:2 answers `"tags": null` for a repository whose tags were all deleted.
    if (page !== null && page !== undefined) {
      if (!Array.isArray(page) || page.some((t) => typeof t !== 'string')) {
        throw new FerryError(
          RegistryErrorCode.Protocol,
          `${first.pathname}: "${field}" is not a list of strings`,
        );
      }
      if (items.length + page.length > MAX_LIST_ENTRIES) {
        throw new FerryError(
          RegistryErrorCode.Protocol,
          `${first.pathname}: the registry lists more than ${MAX_LIST_ENTRIES.toLocaleString('en-US')} ${field}; stopped`,
        );
      }
      for (const item of page as string[]) items.push(item);
    }
    if (options.limit !== undefined && items.length >= options.limit)
      return items.slice(0, options.limit);
    url = nextLink(response.headers.link, url);
  }
  return items;
}
