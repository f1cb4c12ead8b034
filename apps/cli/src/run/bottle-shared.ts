import { RegistryTarget, type Target } from '@ferry/artifact';
import { bottleRegistryOptions } from '@ferry/homebrew';
import { openRegistry, type Context, type CredentialRole } from '../context.js';

/**
 * Targets for bottle repositories of one registry, reached the way Homebrew reaches it. `role`
 * says whose flag credentials it gets: `bottle mirror` gives -u/-p to its destination only.
 */
export async function bottleTargets(
  context: Context,
  registry: string,
  role: CredentialRole = 'default',
): Promise<{ open(repository: string): Target; host: string }> {
  const { host, ...extra } = bottleRegistryOptions(registry);
  const client = await openRegistry(
    host,
    context,
    context.args['plain-http'] ? { ...extra, plainHttp: true } : extra,
    role,
  );
  return { open: (repository) => new RegistryTarget(client, repository), host };
}
