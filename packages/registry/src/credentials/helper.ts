/**
 * The docker credential-helper protocol (github.com/docker/docker-credential-helpers):
 * `docker-credential-<name> <action>` with the input on stdin.
 *   get    stdin: server URL   stdout: {"ServerURL","Username","Secret"}
 *   store  stdin: {"ServerURL","Username","Secret"}
 *   erase  stdin: server URL
 * A Username of `<token>` marks the Secret as an identity (refresh) token. A missing entry is
 * reported as "credentials not found in native keychain", usually with exit status 1.
 */
import { spawn } from 'node:child_process';
import { FerryError } from '@ferry/oci';
import type { Credential } from './docker-config.js';
import { CredentialErrorCode, isObject } from './docker-config.js';

export type HelperAction = 'get' | 'store' | 'erase' | 'list';
export interface HelperResult {
  stdout: string;
  stderr: string;
  code: number;
}
export type HelperRunner = (
  helper: string,
  action: HelperAction,
  input: string,
) => Promise<HelperResult>;

/** Which helper to run, and where it was configured (for messages). */
export interface HelperRef {
  name: string;
  /** e.g. `"credsStore" in /home/me/.docker/config.json`. */
  source: string;
}

const TOKEN_USERNAME = '<token>';
const NOT_FOUND = /credentials not found/i;
/** A helper's answer is a few hundred bytes; more is a misbehaving program. */
const MAX_OUTPUT = 1024 * 1024;
/**
 * How long a helper may take. Docker's client bounds helpers through its request context; a
 * helper waiting on a locked keychain or a prompt nobody sees would otherwise hang ferry forever.
 */
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

export interface HelperRunnerOptions {
  /** Stop (SIGKILL) a helper that has not finished after this long; default 30 s. */
  timeoutMs?: number | undefined;
}

/** What the runner rejects with when a helper ran out of time (turned into a FerryError by run). */
class HelperTimeout extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`did not finish within ${formatDuration(timeoutMs)}`);
    this.timeoutMs = timeoutMs;
  }
}

function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function helperCommand(name: string): string {
  return `docker-credential-${name}`;
}

/** The real runner: no shell, so nothing in a helper name or input is ever interpreted. */
export function spawnHelperRunner(
  env: NodeJS.ProcessEnv,
  options: HelperRunnerOptions = {},
): HelperRunner {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  return (helper, action, input) =>
    new Promise((resolve, reject) => {
      // With `env` given, Node looks the command up on env.PATH, which is what tests rely on.
      const child = spawn(helperCommand(helper), [action], { env, windowsHide: true });
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        failure = new HelperTimeout(timeoutMs);
        child.kill('SIGKILL');
        // A process the helper started may still hold the pipes: stop waiting for them.
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
        reject(failure);
      }, timeoutMs);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const collect = (chunks: Buffer[]) => {
        let size = 0;
        return (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_OUTPUT) chunks.push(chunk);
        };
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      child.stdin.on('error', () => undefined); // a helper may exit without reading (EPIPE)
      child.on('error', (error) => {
        clearTimeout(timer);
        if (failure) return;
        failure = error;
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (failure) return;
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code: code ?? 1, // killed by a signal
        });
      });
      child.stdin.end(input);
    });
}

async function run(
  runner: HelperRunner,
  helper: HelperRef,
  action: HelperAction,
  input: string,
): Promise<HelperResult> {
  const command = helperCommand(helper.name);
  // The name comes from a config file: `../x` would make the command a relative path.
  if (!/^[A-Za-z0-9][\w.-]*$/.test(helper.name)) {
    throw new FerryError(
      CredentialErrorCode.Helper,
      `invalid credential helper name ${JSON.stringify(helper.name.slice(0, 100))} (${helper.source})`,
    );
  }
  try {
    return await runner(helper.name, action, input);
  } catch (error) {
    if (error instanceof FerryError) throw error;
    if (error instanceof HelperTimeout) {
      throw new FerryError(
        CredentialErrorCode.Helper,
        `credential helper ${command} ${action} did not answer within ${formatDuration(error.timeoutMs)} ` +
          `and was stopped (configured as ${helper.source}): is it waiting for a locked keychain or a prompt?`,
        { cause: error },
      );
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FerryError(
        CredentialErrorCode.Helper,
        `credential helper ${command} is not on PATH (configured as ${helper.source}): ` +
          `install it, or remove it from the configuration`,
        { cause: error },
      );
    }
    throw new FerryError(
      CredentialErrorCode.Helper,
      `cannot run credential helper ${command}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function failed(
  helper: HelperRef,
  action: HelperAction,
  result: HelperResult,
  secrets: string[] = [],
): FerryError {
  let detail = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
  // A helper has no business echoing its input, but if it does the secret stays out of logs.
  for (const secret of secrets) if (secret) detail = detail.split(secret).join('***');
  if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
  return new FerryError(
    CredentialErrorCode.Helper,
    `${helperCommand(helper.name)} ${action} failed (exit status ${result.code})` +
      (detail ? `: ${detail}` : ''),
  );
}

function notFound(result: HelperResult): boolean {
  return NOT_FOUND.test(result.stdout) || NOT_FOUND.test(result.stderr);
}

export async function helperGet(
  runner: HelperRunner,
  helper: HelperRef,
  serverURL: string,
): Promise<Credential | undefined> {
  const result = await run(runner, helper, 'get', serverURL);
  const text = result.stdout.trim();
  if (result.code !== 0) {
    if (notFound(result)) return undefined;
    throw failed(helper, 'get', result);
  }
  if (!text.startsWith('{') && notFound(result)) return undefined; // some exit 0 regardless
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (!isObject(answer)) {
    // The output is not echoed: it may be a secret in an unexpected format.
    throw new FerryError(
      CredentialErrorCode.Helper,
      `${helperCommand(helper.name)} get did not print the JSON credential object it should`,
    );
  }
  const username = typeof answer['Username'] === 'string' ? answer['Username'] : '';
  const secret = typeof answer['Secret'] === 'string' ? answer['Secret'] : '';
  if (username === TOKEN_USERNAME) return secret ? { identityToken: secret } : undefined;
  const credential: Credential = {};
  if (username) credential.username = username;
  if (secret) credential.password = secret;
  return Object.keys(credential).length > 0 ? credential : undefined;
}

/**
 * Helpers hold one username/secret pair, so an identity token is stored under `<token>` (as
 * docker does) and a registry token, which docker never hands to a helper, is refused.
 */
export async function helperStore(
  runner: HelperRunner,
  helper: HelperRef,
  serverURL: string,
  credential: Credential,
): Promise<void> {
  let username: string;
  let secret: string;
  if (credential.identityToken) {
    username = TOKEN_USERNAME;
    secret = credential.identityToken;
  } else if (credential.username || credential.password) {
    username = credential.username ?? '';
    secret = credential.password ?? '';
  } else {
    throw new FerryError(
      CredentialErrorCode.InvalidCredential,
      `${helperCommand(helper.name)} can store a username and password or an identity token, ` +
        `not a registry token alone`,
    );
  }
  const input = JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });
  const result = await run(runner, helper, 'store', input);
  if (result.code !== 0) throw failed(helper, 'store', result, [secret]);
}

/** Returns false when the helper had nothing stored for the server. */
export async function helperErase(
  runner: HelperRunner,
  helper: HelperRef,
  serverURL: string,
): Promise<boolean> {
  const result = await run(runner, helper, 'erase', serverURL);
  if (result.code === 0) return true;
  if (notFound(result)) return false;
  throw failed(helper, 'erase', result);
}
