import { RegistryTarget, type Target } from '@ferry/artifact';
import { bottleSources, FallbackTarget, type UploadCredentials } from '@ferry/homebrew';
import type { BottleLocationArgs } from './args/bottle.js';
import { escapeTerminal } from '../terminal-text.js';
import { credentialsFor, openRegistry, type Context, type CredentialRole } from '../context.js';

export interface BottleSource {
  /** Where formulae without a tap live (`homebrew/core`, or HOMEBREW_BOTTLE_DOMAIN's path). */
  coreNamespace: string;
  /** The host references are printed with. */
  host: string;
  /** A read target for `repository`, trying brew's mirrors and fallbacks in brew's order. */
  open(repository: string): Promise<Target>;
}

/**
 * Where `bottle pull|info|mirror` read from: `--registry`/`--namespace`, else Homebrew's
 * HOMEBREW_BOTTLE_DOMAIN, HOMEBREW_ARTIFACT_DOMAIN(_NO_FALLBACK) and auth variables.
 */
export function bottleSource(
  context: Context,
  args: BottleLocationArgs,
  /** Whose flag credentials the source gets: `bottle mirror` gives -u/-p to its destination. */
  role: CredentialRole = 'default',
): BottleSource {
  const sources = bottleSources({ registry: args.registry, namespace: args.namespace });
  const parallel = context.args.parallel;
  return {
    coreNamespace: sources.coreNamespace,
    host: sources.host,
    open: async (repository) => {
      const endpoints = sources.endpoints(repository);
      const targets = await Promise.all(
        endpoints.map(async ({ host, repository: name, via, ...extra }) => {
          // Flag credentials and -H belong to the registry the user named (--registry, else
          // ghcr.io itself); a mirror or bottle domain tried before or after it gets only what
          // config.json and Homebrew's variables give it (`from`: bottle has no --from-* flags).
          const named = via === '--registry' || via === host;
          const client = await openRegistry(
            host,
            context,
            context.args['plain-http'] ? { ...extra, plainHttp: true } : extra,
            named ? role : 'from',
          );
          const target: Target = new RegistryTarget(client, name, { parallel });
          return { target, via };
        }),
      );
      if (targets.length === 1) return targets[0]!.target;
      // One warning per place given up on, however many requests failed there.
      const warned = new Set<string>();
      return new FallbackTarget(targets, (from, to, error) => {
        if (warned.has(from.via)) return;
        warned.add(from.via);
        const reason = ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
        context.io.stderr(
          `Warning: ${terminalSafe(from.target.name)} (${from.via}) failed: ${terminalSafe(reason)}; trying ${terminalSafe(to.target.name)}\n`,
        );
      });
    },
  };
}

/**
 * Targets to push to: no anonymous `QQ==` token; `-u/-p` when given, else brew's
 * HOMEBREW_GITHUB_PACKAGES_USER/TOKEN for the host pushed to (and only that host), else the
 * stored credentials.
 */
export function uploadTargets(
  context: Context,
  envCredentials: UploadCredentials | undefined,
): { open(host: string, repository: string): Promise<Target> } {
  // Stored credentials only (no flag role): the flags, when given, go through openRegistry.
  const stored = credentialsFor(context, undefined, () => '');
  const { args } = context;
  // Any credential flag, given for the host pushed to, wins over the environment's.
  const flags =
    args.username !== undefined ||
    args.password !== undefined ||
    args['password-stdin'] === true ||
    args['identity-token'] !== undefined ||
    args['identity-token-stdin'] === true;
  return {
    open: async (host, repository) => {
      const client = await openRegistry(host, context, {
        ...(args['plain-http'] ? { plainHttp: true } : {}),
        ...(envCredentials && !flags
          ? {
              credentials: async (asked: string) =>
                asked === host ? envCredentials : stored(asked),
            }
          : {}),
      });
      return new RegistryTarget(client, repository);
    },
  };
}

/** Registry text in bottle messages: the CLI's one terminal escape (see terminal-text.ts). */
export const terminalSafe = escapeTerminal;

/**
 * One JSON document for a command that acts on several images or bottles: the first (what the
 * user named first) at the top level, as every result has, and all of them under `key`.
 */
export function oneDocument<T extends object>(entries: T[], key: string): object {
  const [first] = entries;
  return { ...(first ?? {}), [key]: entries };
}
