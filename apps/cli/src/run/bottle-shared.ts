import { RegistryTarget, type Target } from '@ferry/artifact';
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
  const parallel = (context.args as { parallel?: number }).parallel;
  return { open: (repository) => new RegistryTarget(client, repository, { parallel }), host };
}
