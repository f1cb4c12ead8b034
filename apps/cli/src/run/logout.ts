import { CredentialStore } from '@ferry/registry';
import type { LoginArgs } from '../commands/manage.js';
import type { Context } from '../context.js';
import { printResult } from '../output.js';
import { registryHost } from './login.js';

export async function run(context: Context, args: LoginArgs): Promise<void> {
  const host = registryHost(args.registry);
  const store = new CredentialStore(
    args['registry-config'] ? { configPath: args['registry-config'] } : {},
  );
  await store.erase(host);
  printResult(context, [`Removed login credentials for ${host}`], {
    registry: host,
    configPath: store.path,
    status: 'Logged out',
  });
}
