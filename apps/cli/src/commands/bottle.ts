/** `ferry bottle pull|info|push|mirror`: Homebrew bottles in OCI registries. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import {
  withConcurrency,
  withParallelDownloads,
  withOutputOptions,
  withRemoteOptions,
  type CommonArgs,
} from '../options.js';
import { lazy } from './lazy.js';

export interface BottleArgs extends CommonArgs {
  formulas: string[];
  formula: string;
  files: string[];
  version?: string;
  tag?: string | string[];
  /** Absent: Homebrew's default (ghcr.io, or HOMEBREW_BOTTLE_DOMAIN's host for pulls). */
  registry?: string;
  /** Absent: homebrew/core (or HOMEBREW_BOTTLE_DOMAIN's path); for push, root_url's. */
  namespace?: string;
  output: string;
  'with-deps'?: boolean;
  extract?: string;
  'keep-old'?: boolean;
  'dry-run'?: boolean;
  'warn-on-upload-failure'?: boolean;
  'root-url'?: string;
  'upload-only'?: boolean;
  to?: string;
  'cache-dir'?: string;
  concurrency: number;
  parallel?: number;
}

const where = <T>(yargs: Argv<T>) =>
  withOutputOptions(withRemoteOptions(yargs, { layout: false }))
    .option('registry', {
      type: 'string',
      describe: 'Registry holding the bottles (default ghcr.io, or $HOMEBREW_BOTTLE_DOMAIN’s)',
    })
    .option('namespace', {
      type: 'string',
      describe: 'Namespace of formulae without a tap (default homebrew/core)',
    });

export function bottleCommand(io: Io): CommandModule<object, never> {
  const cmd = <A>(module: CommandModule<object, A>) =>
    module as unknown as CommandModule<object, never>;
  const subcommands = [
    cmd<BottleArgs>({
      command: 'pull <formulas..>',
      describe: 'Download bottles for a platform, verified as Homebrew verifies them',
      builder: (yargs) =>
        withParallelDownloads(withConcurrency(where(yargs), 4))
          .positional('formulas', {
            type: 'string',
            array: true,
            demandOption: true,
            describe: 'sqlite, openssl@3, user/tap/foo',
          })
          .option('version', {
            type: 'string',
            describe: 'Image tag (pkg_version[-rebuild]); default the newest',
          })
          .option('tag', {
            type: 'string',
            describe: 'Bottle tag (arm64_sonoma, x86_64_linux…); default this machine’s',
          })
          .option('output', {
            alias: 'o',
            type: 'string',
            default: '.',
            describe: 'Directory for the bottle files',
          })
          .option('with-deps', {
            type: 'boolean',
            describe: 'Also pull the runtime dependencies from each tab',
          })
          .option('extract', { type: 'string', describe: 'Unpack into this Cellar-like directory' })
          .option('cache-dir', {
            type: 'string',
            describe: 'Download cache (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
          })
          .example(
            '$0 bottle pull sqlite --tag arm64_sonoma',
            'sqlite--3.x.arm64_sonoma.bottle.tar.gz from ghcr.io',
          )
          .example(
            '$0 bottle pull jq --with-deps --extract ./Cellar',
            'jq and oniguruma, unpacked',
          ) as unknown as Argv<BottleArgs>,
      handler: lazy(io, () => import('../run/bottle-pull.js')),
    }),
    cmd<BottleArgs>({
      command: 'info <formula>',
      describe: 'Show every bottle of a formula: tag, platform, size, digest, dependencies',
      builder: (yargs) =>
        where(yargs)
          .positional('formula', { type: 'string', demandOption: true })
          .option('version', { type: 'string', describe: 'Image tag; default the newest' })
          .example('$0 bottle info sqlite --format json', 'As JSON') as unknown as Argv<BottleArgs>,
      handler: lazy(io, () => import('../run/bottle-info.js')),
    }),
    cmd<BottleArgs>({
      command: 'push <files..>',
      describe: 'Publish bottles (brew bottle --json output, or bare tarballs) as Homebrew does',
      builder: (yargs) =>
        where(yargs)
          .positional('files', {
            type: 'string',
            array: true,
            demandOption: true,
            describe: '*.bottle.json and/or *.bottle.tar.gz',
          })
          .option('registry', {
            type: 'string',
            describe:
              'Registry to push to (default: the bottle JSON’s root_url host, else ghcr.io)',
          })
          .option('namespace', {
            type: 'string',
            describe:
              'Repository path to push to (default: the bottle JSON’s root_url; required for ghcr.io without one)',
          })
          .option('keep-old', {
            type: 'boolean',
            describe:
              'Add to an existing version tag (refused without it); refuse a bottle tag already there',
          })
          .option('dry-run', {
            alias: 'n',
            type: 'boolean',
            describe: 'Print what would be uploaded; contact no registry, upload nothing',
          })
          .option('warn-on-upload-failure', {
            type: 'boolean',
            describe:
              'Warn and skip an image whose tag exists or cannot be checked, instead of failing',
          })
          .option('root-url', {
            type: 'string',
            describe:
              'Use this root_url (https://ghcr.io/v2/<org>/<repo>) instead of the bottle JSON’s',
          })
          .option('upload-only', {
            type: 'boolean',
            describe: 'Accepted for brew pr-upload compatibility: ferry only ever uploads',
          })
          .example(
            '$0 bottle push *.bottle.json',
            'Publish to each bottle JSON’s root_url, as brew pr-upload does',
          )
          .example(
            '$0 bottle push foo--1.0.x86_64_linux.bottle.tar.gz --namespace myorg/tap',
            'Publish a bare tarball to ghcr.io/myorg/tap/foo',
          ) as unknown as Argv<BottleArgs>,
      handler: lazy(io, () => import('../run/bottle-push.js')),
    }),
    cmd<BottleArgs>({
      command: 'mirror <formulas..>',
      describe: 'Copy bottle images to another registry with every digest kept',
      builder: (yargs) =>
        withConcurrency(where(yargs), 4)
          .positional('formulas', { type: 'string', array: true, demandOption: true })
          .option('to', {
            type: 'string',
            demandOption: true,
            describe:
              'Destination registry[/prefix]; each image keeps its ghcr.io path under the prefix',
          })
          .option('version', { type: 'string', describe: 'Image tag; default the newest' })
          .option('tag', {
            type: 'string',
            array: true,
            describe: 'Only these bottle tags (repeatable; default all)',
          })
          .option('with-deps', { type: 'boolean', describe: 'Also mirror runtime dependencies' })
          .example(
            '$0 bottle mirror sqlite --with-deps --to registry.internal:5000/mirror',
            'For HOMEBREW_ARTIFACT_DOMAIN=https://registry.internal:5000/v2/mirror',
          ) as unknown as Argv<BottleArgs>,
      handler: lazy(io, () => import('../run/bottle-mirror.js')),
    }),
  ];
  return {
    command: 'bottle <command>',
    describe: 'Pull, inspect, publish and mirror Homebrew bottles',
    builder: (yargs) => {
      // Homebrew's --version (an image tag) replaces yargs' own --version inside `bottle`.
      yargs.version(false);
      for (const sub of subcommands) yargs.command(sub);
      return yargs.demandCommand(1, 'Name a bottle command.') as unknown as Argv<never>;
    },
    handler: () => {},
  };
}
