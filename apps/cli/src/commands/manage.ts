/** login, logout, manifest, blob, repo: ORAS's names and flags. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import {
  withOutputOptions,
  withParallelDownloads,
  withRemoteOptions,
  type CommonArgs,
} from '../options.js';
import { manifestIndexCommand } from './index-backup.js';
import { withDistributionSpec } from '../remote-flags.js';
import { lazy } from './lazy.js';

export interface LoginArgs extends CommonArgs {
  registry: string;
}

export interface ManifestArgs extends CommonArgs {
  reference: string;
  file?: string;
  output?: string;
  descriptor?: boolean;
  pretty?: boolean;
  platform?: string;
  'media-type'?: string;
  force?: boolean;
  concurrency?: number;
}

export interface BlobArgs extends CommonArgs {
  reference: string;
  file?: string;
  output?: string;
  descriptor?: boolean;
  pretty?: boolean;
  size?: number;
  'media-type'?: string;
  force?: boolean;
  parallel?: number;
  'cache-dir'?: string;
}

export interface CacheArgs extends CommonArgs {
  'cache-dir'?: string;
}

export interface RepoArgs extends CommonArgs {
  target: string;
  last?: string;
  'exclude-digest-tags'?: boolean;
}

const common = <T>(yargs: Argv<T>, layout = true) =>
  withOutputOptions(withRemoteOptions(yargs, { layout }));
const force = <T>(yargs: Argv<T>) =>
  yargs.option('force', { alias: 'f', type: 'boolean', describe: 'Do not ask for confirmation' });

function group(
  io: Io,
  name: string,
  describe: string,
  subcommands: CommandModule<object, never>[],
): CommandModule<object, never> {
  return {
    command: `${name} <command>`,
    describe,
    builder: (yargs) => {
      for (const sub of subcommands) yargs.command(sub);
      return yargs.demandCommand(1, `Name a ${name} command.`) as unknown as Argv<never>;
    },
    handler: () => {
      void io;
    },
  };
}

export function manageCommands(io: Io): CommandModule<object, never>[] {
  const cmd = <A>(module: CommandModule<object, A>) =>
    module as unknown as CommandModule<object, never>;

  const login = cmd<LoginArgs>({
    command: 'login <registry>',
    describe: 'Log in to a registry (credentials are checked, then stored in Docker’s config.json)',
    builder: (yargs) =>
      common(yargs, false)
        .positional('registry', { type: 'string', demandOption: true })
        .example(
          'echo "$TOKEN" | $0 login ghcr.io -u me --password-stdin',
          'Log in without the password on the command line',
        ) as unknown as Argv<LoginArgs>,
    handler: lazy(io, () => import('../run/login.js')),
  });
  const logout = cmd<LoginArgs>({
    command: 'logout <registry>',
    describe: 'Remove stored credentials for a registry',
    builder: (yargs) =>
      common(yargs, false).positional('registry', {
        type: 'string',
        demandOption: true,
      }) as unknown as Argv<LoginArgs>,
    handler: lazy(io, () => import('../run/logout.js')),
  });

  const manifest = group(io, 'manifest', 'Fetch, push and delete manifests', [
    cmd<ManifestArgs>({
      command: 'fetch <reference>',
      describe: 'Print a manifest exactly as stored',
      builder: (yargs) =>
        common(yargs)
          .positional('reference', { type: 'string', demandOption: true })
          .option('output', {
            alias: 'o',
            type: 'string',
            describe: 'Write to this file instead of stdout',
          })
          .option('descriptor', { type: 'boolean', describe: 'Print its descriptor instead' })
          .option('pretty', {
            type: 'boolean',
            describe: 'Indent the JSON (digest is of the stored bytes)',
          })
          .option('platform', {
            type: 'string',
            describe: 'The manifest for this platform of an index',
          })
          .option('media-type', {
            type: 'string',
            describe: 'Accepted media types, comma-separated: refuse a manifest of another type',
          }) as unknown as Argv<ManifestArgs>,
      handler: lazy(io, () => import('../run/manifest-fetch.js')),
    }),
    cmd<ManifestArgs>({
      command: 'fetch-config <reference>',
      describe: 'Print the config blob of an image or artifact',
      builder: (yargs) =>
        common(yargs)
          .positional('reference', { type: 'string', demandOption: true })
          .option('output', {
            alias: 'o',
            type: 'string',
            describe: 'Write to this file instead of stdout',
          })
          .option('descriptor', {
            type: 'boolean',
            describe: 'Print the config descriptor instead',
          })
          .option('platform', {
            type: 'string',
            describe: 'From an index, the manifest for this platform',
          }) as unknown as Argv<ManifestArgs>,
      handler: lazy(io, () => import('../run/manifest-fetch-config.js')),
    }),
    cmd<ManifestArgs>({
      command: 'push <reference> <file>',
      describe: 'Push a manifest file (or - for stdin) as is',
      builder: (yargs) =>
        withDistributionSpec(common(yargs))
          .positional('reference', { type: 'string', demandOption: true })
          .positional('file', { type: 'string', demandOption: true })
          .option('media-type', {
            type: 'string',
            describe: 'Media type, when the file does not say',
          })
          .option('descriptor', { type: 'boolean', describe: 'Print its descriptor instead' })
          .option('pretty', { type: 'boolean', describe: 'Indent the descriptor' })
          .option('concurrency', {
            type: 'number',
            default: 5,
            describe: 'Tags (ref:a,b,c) pointed at once',
          }) as unknown as Argv<ManifestArgs>,
      handler: lazy(io, () => import('../run/manifest-push.js')),
    }),
    cmd<ManifestArgs>({
      command: 'delete <reference>',
      describe: 'Delete a manifest (the registry must allow deletes)',
      builder: (yargs) =>
        force(common(yargs))
          .positional('reference', {
            type: 'string',
            demandOption: true,
          })
          .option('descriptor', {
            type: 'boolean',
            describe: 'Print the deleted manifest’s descriptor instead',
          })
          .option('pretty', {
            type: 'boolean',
            describe: 'Indent the descriptor',
          }) as unknown as Argv<ManifestArgs>,
      handler: lazy(io, () => import('../run/manifest-delete.js')),
    }),
    manifestIndexCommand(io),
  ]);

  const blob = group(io, 'blob', 'Fetch, push and delete blobs', [
    cmd<BlobArgs>({
      command: 'fetch <reference>',
      describe: 'Fetch a blob by digest (verified) to a file or stdout',
      builder: (yargs) =>
        withParallelDownloads(common(yargs))
          .option('cache-dir', {
            type: 'string',
            describe:
              'Download cache for blobs fetched in parallel ranges (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
          })
          .positional('reference', {
            type: 'string',
            demandOption: true,
            describe: 'registry/repository@digest',
          })
          .option('output', {
            alias: 'o',
            type: 'string',
            describe: 'File to write, or - for stdout',
          })
          .option('descriptor', {
            type: 'boolean',
            describe: 'Print the blob’s descriptor instead',
          }) as unknown as Argv<BlobArgs>,
      handler: lazy(io, () => import('../run/blob-fetch.js')),
    }),
    cmd<BlobArgs>({
      command: 'push <reference> <file>',
      describe: 'Push a file (or - for stdin) as a blob',
      builder: (yargs) =>
        common(yargs)
          .positional('reference', {
            type: 'string',
            demandOption: true,
            describe: 'registry/repository[@digest]',
          })
          .positional('file', { type: 'string', demandOption: true })
          .option('media-type', {
            type: 'string',
            default: 'application/octet-stream',
            describe: 'For the printed descriptor',
          })
          .option('size', {
            type: 'number',
            describe: 'Expected size (checked)',
          })
          .option('descriptor', { type: 'boolean', describe: 'Print its descriptor instead' })
          .option('pretty', {
            type: 'boolean',
            describe: 'Indent the descriptor',
          }) as unknown as Argv<BlobArgs>,
      handler: lazy(io, () => import('../run/blob-push.js')),
    }),
    cmd<BlobArgs>({
      command: 'delete <reference>',
      describe: 'Delete a blob by digest',
      builder: (yargs) =>
        force(common(yargs)).positional('reference', {
          type: 'string',
          demandOption: true,
        }) as unknown as Argv<BlobArgs>,
      handler: lazy(io, () => import('../run/blob-delete.js')),
    }),
  ]);

  const repo = group(io, 'repo', 'List repositories and tags', [
    cmd<RepoArgs>({
      command: 'ls <target>',
      aliases: ['list'],
      describe: 'List the repositories of a registry (optionally under a namespace)',
      builder: (yargs) =>
        common(yargs, false)
          .positional('target', {
            type: 'string',
            demandOption: true,
            describe: 'registry[/namespace]',
          })
          .option('last', {
            type: 'string',
            describe: 'Start after this repository',
          }) as unknown as Argv<RepoArgs>,
      handler: lazy(io, () => import('../run/repo-ls.js')),
    }),
    cmd<RepoArgs>({
      command: 'tags <target>',
      aliases: ['show-tags'],
      describe: 'List the tags of a repository',
      builder: (yargs) =>
        common(yargs)
          .positional('target', {
            type: 'string',
            demandOption: true,
            describe: 'registry/repository',
          })
          .option('last', { type: 'string', describe: 'Start after this tag' })
          .option('exclude-digest-tags', {
            type: 'boolean',
            describe: 'Hide sha256-<hex> referrer tags',
          }) as unknown as Argv<RepoArgs>,
      handler: lazy(io, () => import('../run/repo-tags.js')),
    }),
  ]);

  const cache = group(io, 'cache', 'Manage the download cache', [
    cmd<CacheArgs>({
      command: 'prune',
      describe: 'Empty the download cache (complete and partial downloads)',
      builder: (yargs) =>
        withOutputOptions(yargs).option('cache-dir', {
          type: 'string',
          describe: 'The cache (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
        }) as unknown as Argv<CacheArgs>,
      handler: lazy(io, () => import('../run/cache-prune.js')),
    }),
  ]);

  return [login, logout, manifest, blob, repo, cache];
}
