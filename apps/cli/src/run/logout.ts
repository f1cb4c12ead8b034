import { CredentialErrorCode, CredentialStore } from '@ferry/registry';
import type { LoginArgs } from './args/login.js';
import type { Context } from '../context.js';
import { printResult } from '../output.js';
import { registryHost } from './login.js';

export async function run(context: Context, args: LoginArgs): Promise<void> {
  const host = registryHost(args.registry);
  const store = new CredentialStore(
    args['registry-config'] ? { configPath: args['registry-config'] } : {},
  );
  const result = (status: string, line: string) =>
    printResult(context, [line], { registry: host, configPath: store.path, status });
  try {
    await store.erase(host);
  } catch (error) {
    // Like docker logout: nothing to remove is not a failure.
    if ((error as { code?: string }).code !== CredentialErrorCode.NotLoggedIn) throw error;
    result('Not logged in', `Not logged in to ${host}`);
    return;
  }
  result('Logged out', `Removed login credentials for ${host}`);
}
