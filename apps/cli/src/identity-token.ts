/**
 * ORAS's `--identity-token` / `--identity-token-stdin`: an OAuth2 refresh token, exchanged at the
 * registry's token server by `POST grant_type=refresh_token`, and stored by `login` as Docker's
 * `identitytoken`. Exclusive with a username and with a password, as in ORAS.
 */
import { UsageError } from './exit.js';
import type { Io } from './io.js';
import type { RemoteArgs } from './options/remote.js';

/** What the identity token is read from: the credential flags, stderr for warnings, and stdin. */
export interface IdentityTokenSource {
  args: Partial<
    Pick<
      RemoteArgs,
      'identity-token' | 'identity-token-stdin' | 'username' | 'password' | 'password-stdin'
    >
  >;
  io: Pick<Io, 'stderr'>;
  readStdin(): Promise<string>;
}

/** The identity token given on the command line, if any. */
export async function givenIdentityToken(
  context: IdentityTokenSource,
): Promise<string | undefined> {
  const { args } = context;
  const fromStdin = args['identity-token-stdin'] === true;
  const inline = args['identity-token'];
  if (!fromStdin && inline === undefined) return undefined;
  if (fromStdin && inline !== undefined) {
    throw new UsageError('--identity-token and --identity-token-stdin cannot be used together');
  }
  for (const flag of ['username', 'password', 'password-stdin'] as const) {
    if (args[flag] !== undefined && args[flag] !== false) {
      throw new UsageError(`--${flag} cannot be used with an identity token`);
    }
  }
  if (inline !== undefined) {
    context.io.stderr(
      'Warning: an identity token on the command line can leak through shell history and process lists; use --identity-token-stdin\n',
    );
    if (inline === '') throw new UsageError('--identity-token is empty');
    return inline;
  }
  const token = (await context.readStdin()).replace(/\r?\n$/, '');
  if (!token) throw new UsageError('--identity-token-stdin: stdin held no token');
  return token;
}
