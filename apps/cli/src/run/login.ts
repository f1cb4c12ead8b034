import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CredentialStore, Registry, type Credential } from '@ferry/registry';
import type { LoginArgs } from './args/login.js';
import { givenPassword, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { givenIdentityToken } from '../identity-token.js';
import { FerryError } from '@ferry/oci';
import { printResult } from '../output.js';
import { version } from '../version.js';
import { readFile } from 'node:fs/promises';
import { CliErrorCode } from '../errors.js';

/** `https://ghcr.io/v2/` → `ghcr.io`: people paste URLs. */
export function registryHost(input: string): string {
  const host = input.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (!host) throw new UsageError(`${JSON.stringify(input)} does not name a registry`);
  return host;
}

/**
 * Asks on the terminal. readline redraws its prompt line when it starts reading, so the question
 * is readline's own prompt: written separately before it, the redraw erased it at once. A hidden
 * answer is read through a muted readline, after the question is written to the terminal.
 */
async function prompt(question: string, hidden: boolean): Promise<string> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({
    input: process.stdin,
    output: hidden ? muted : process.stderr,
    terminal: true,
  });
  if (hidden) process.stderr.write(question);
  const answer = await new Promise<string>((resolve) =>
    rl.question(hidden ? '' : question, resolve),
  );
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer;
}

/** Checks the credentials against the registry before storing them, as docker and oras do. */
export async function run(context: Context, args: LoginArgs): Promise<void> {
  const host = registryHost(args.registry);
  const identityToken = await givenIdentityToken(context);
  let username = args.username;
  let password = identityToken === undefined ? await givenPassword(context) : '';
  if (identityToken === undefined && (username === undefined || password === undefined)) {
    if (!process.stdin.isTTY)
      throw new UsageError(
        'give --username with --password-stdin (or --password) when not interactive',
      );
    username ??= await prompt('Username: ', false);
    password ??= await prompt('Password: ', true);
  }
  const credential: Credential =
    identityToken !== undefined
      ? { identityToken }
      : username
        ? { username, password }
        : { identityToken: password };
  const ca = args['ca-file'] ? await readFile(args['ca-file'], 'utf8') : undefined;
  const registry = new Registry(host, {
    credentials: async () => credential,
    ...(args['plain-http'] ? { plainHttp: true } : {}),
    insecure: args.insecure,
    ca,
    userAgent: `ferry/${version}`,
    debug: args.debug ? (line) => context.io.stderr(`[debug] ${line}\n`) : undefined,
  });
  try {
    await registry.ping();
  } catch (error) {
    if ((error as { status?: number }).status === 401) {
      // Not the generic hint ("log in: ferry login …"): this is the login, and it was refused.
      throw new FerryError(
        CliErrorCode.LoginRefused,
        `${host} refused the ${username ? `password for user ${JSON.stringify(username)}` : 'identity token'}; nothing was stored`,
      );
    }
    throw error;
  } finally {
    await registry.close();
  }
  const store = new CredentialStore(
    args['registry-config'] ? { configPath: args['registry-config'] } : {},
  );
  await store.store(host, credential);
  printResult(context, ['Login Succeeded'], {
    registry: host,
    configPath: store.path,
    status: 'Login Succeeded',
  });
}
