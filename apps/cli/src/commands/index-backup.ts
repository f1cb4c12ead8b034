/** manifest index create/update, backup and restore: ORAS 1.3's names and flags. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import { withOutputOptions, withRemoteOptions, type CommonArgs } from '../options.js';
import { withDistributionSpec } from '../remote-flags.js';
import { lazy } from './lazy.js';

export interface IndexCreateArgs extends CommonArgs {
  reference: string;
  sources: string[];
  annotation?: string[];
  'artifact-type'?: string;
  output?: string;
  pretty?: boolean;
}

export interface IndexUpdateArgs extends CommonArgs {
  reference: string;
  add?: string[];
  merge?: string[];
  remove?: string[];
  tag?: string[];
  annotation?: string[];
  'artifact-type'?: string;
  output?: string;
  pretty?: boolean;
}

export interface BackupArgs extends CommonArgs {
  reference: string;
  output: string;
  'include-referrers'?: boolean;
  concurrency: number;
}

export interface RestoreArgs extends CommonArgs {
  reference: string;
  input: string;
  'exclude-referrers'?: boolean;
  'dry-run'?: boolean;
  concurrency: number;
}

const cmd = <A>(module: CommandModule<object, A>) =>
  module as unknown as CommandModule<object, never>;

function indexOutputOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('annotation', {
      alias: 'a',
      type: 'string',
      array: true,
      describe: 'Index annotation key=value (repeatable)',
    })
    .option('artifact-type', { type: 'string', describe: 'The index’s artifactType' })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'Write the index to this file (- for stdout) instead of pushing it',
    })
    .option('pretty', { type: 'boolean', describe: 'Indent the index written with --output -' });
}

function concurrency<T>(yargs: Argv<T>, fallback: number) {
  return yargs.option('concurrency', {
    type: 'number',
    default: fallback,
    describe: 'Blobs transferred at once',
    coerce: (value: number) => {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`--concurrency ${value}: give a whole number of at least 1`);
      }
      return value;
    },
  });
}

/** `ferry manifest index create|update`, registered under `manifest`. */
export function manifestIndexCommand(io: Io): CommandModule<object, never> {
  const create = cmd<IndexCreateArgs>({
    command: 'create <reference> [sources..]',
    aliases: ['pack'],
    describe: 'Create an index from manifests of the same repository and push it',
    builder: (yargs) =>
      indexOutputOptions(withOutputOptions(withRemoteOptions(yargs)))
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository[:tag[,tag…]] (no tag: pushed by digest)',
        })
        .positional('sources', {
          type: 'string',
          array: true,
          default: [],
          describe: 'Tags or digests of manifests in that repository',
        })
        .example(
          '$0 manifest index create localhost:5000/hello:v1 linux-amd64 linux-arm64',
          'An index of two platform images, tagged v1',
        ) as unknown as Argv<IndexCreateArgs>,
    handler: lazy(io, () => import('../run/manifest-index-create.js')),
  });
  const update = cmd<IndexUpdateArgs>({
    command: 'update <reference>',
    describe: 'Add, remove or merge manifests of an index and push the new index',
    builder: (yargs) =>
      indexOutputOptions(withOutputOptions(withRemoteOptions(yargs)))
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository:tag or @digest of the index',
        })
        .option('add', { type: 'string', array: true, describe: 'Manifest (tag or digest) to add' })
        .option('merge', {
          type: 'string',
          array: true,
          describe: 'Index (tag or digest) whose manifests to add',
        })
        .option('remove', {
          type: 'string',
          array: true,
          describe: 'Digest of a manifest to remove',
        })
        .option('tag', {
          type: 'string',
          array: true,
          describe: 'Extra tag for the updated index (repeatable)',
        })
        .conflicts('tag', 'output')
        .example(
          '$0 manifest index update localhost:5000/hello:v1 --add linux-s390x --remove sha256:…',
          'Replace one platform; v1 then names the new index',
        ) as unknown as Argv<IndexUpdateArgs>,
    handler: lazy(io, () => import('../run/manifest-index-update.js')),
  });
  return {
    command: 'index <command>',
    describe: 'Create and update image indexes',
    builder: (yargs) =>
      yargs
        .command(create)
        .command(update)
        .demandCommand(1, 'Name a manifest index command.') as unknown as Argv<never>,
    handler: () => {
      void io;
    },
  };
}

/** `ferry backup` and `ferry restore`. */
export function backupCommands(io: Io): CommandModule<object, never>[] {
  const backup = cmd<BackupArgs>({
    command: 'backup <reference>',
    describe:
      'Back up tags of a repository (all, or the named ones) with their blobs into an OCI layout directory or .tar',
    builder: (yargs) =>
      concurrency(
        withDistributionSpec(withOutputOptions(withRemoteOptions(yargs, { layout: false }))),
        3,
      )
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository[:tag[,tag…]]',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          demandOption: true,
          describe: 'A directory, or a file ending in .tar',
        })
        .option('include-referrers', {
          type: 'boolean',
          describe: 'Also back up referrers (signatures, SBOMs), recursively',
        })
        .example(
          '$0 backup --output hello.tar --include-referrers localhost:5000/hello:v1,v2',
          'Two tags and their referrers into a tar',
        ) as unknown as Argv<BackupArgs>,
    handler: lazy(io, () => import('../run/backup.js')),
  });
  const restore = cmd<RestoreArgs>({
    command: 'restore <reference>',
    describe: 'Push the tags of a backup (an OCI layout directory or .tar) to a repository',
    builder: (yargs) =>
      concurrency(
        withDistributionSpec(withOutputOptions(withRemoteOptions(yargs, { layout: false }))),
        5,
      )
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository[:tag[,tag…]] (no tags: every tag of the backup)',
        })
        .option('input', {
          type: 'string',
          demandOption: true,
          describe: 'The backup: a directory, or a .tar file',
        })
        .option('exclude-referrers', {
          type: 'boolean',
          describe: 'Leave the referrers in the backup behind',
        })
        .option('dry-run', {
          type: 'boolean',
          describe: 'Say what would be restored, pushing nothing',
        })
        .example(
          '$0 restore --input hello.tar localhost:5000/hello',
          'Every tag of the backup',
        ) as unknown as Argv<RestoreArgs>,
    handler: lazy(io, () => import('../run/restore.js')),
  });
  return [backup, restore];
}
