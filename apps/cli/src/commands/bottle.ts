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
  registry: string;
  namespace: string;
  output: string;
  'with-deps'?: boolean;
  extract?: string;
  'keep-old'?: boolean;
  to?: string;
  'cache-dir'?: string;
  concurrency: number;
  parallel?: number;
}

const where = <T>(yargs: Argv<T>) =>
  withOutputOptions(withRemoteOptions(yargs, { layout: false }))
    .option('registry', {
      type: 'string',
      default: 'ghcr.io',
      describe: 'Registry holding the bottles',
    })
    .option('namespace', {
      type: 'string',
      default: 'homebrew/core',
      describe: 'Namespace of formulae without a tap',
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
          .option('keep-old', {
            type: 'boolean',
            describe: 'Add to the existing index; refuse a bottle tag already there',
          })
          .example(
            '$0 bottle push *.bottle.json --registry ghcr.io --namespace myorg/tap',
            'Publish a tap’s bottles',
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
            describe: 'Destination registry/namespace',
          })
          .option('version', { type: 'string', describe: 'Image tag; default the newest' })
          .option('tag', {
            type: 'string',
            array: true,
            describe: 'Only these bottle tags (repeatable; default all)',
          })
          .option('with-deps', { type: 'boolean', describe: 'Also mirror runtime dependencies' })
          .example(
            '$0 bottle mirror sqlite --to registry.internal:5000/homebrew/core',
            'Mirror for HOMEBREW_ARTIFACT_DOMAIN',
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
