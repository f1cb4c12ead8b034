import { RegistryTarget, type Target } from '@ferry/artifact';
import type { Descriptor } from '@ferry/oci';
import { bottleRegistryOptions } from '@ferry/homebrew';
import { openRegistry, type Context } from '../context.js';

/** Targets for bottle repositories of one registry, reached the way Homebrew reaches it. */
export async function bottleTargets(
  context: Context,
  registry: string,
): Promise<{ open(repository: string): Target; host: string }> {
  const { host, ...extra } = bottleRegistryOptions(registry);
  const client = await openRegistry(
    host,
    context,
    context.args['plain-http'] ? { ...extra, plainHttp: true } : extra,
  );
  return { open: (repository) => new RegistryTarget(client, repository), host };
}

/** The JSON fields of an image index (or bottle blob) in a repository: reference by digest. */
export function imageJson(host: string, repository: string, descriptor: Descriptor) {
  return {
    reference: `${host}/${repository}@${descriptor.digest}`,
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
}

/**
 * One JSON document for a command that acts on several images or bottles: the first (what the
 * user named first) at the top level, as every result has, and all of them under `key`.
 */
export function oneDocument<T extends object>(entries: T[], key: string): object {
  const [first] = entries;
  return { ...(first ?? {}), [key]: entries };
}
