/** push, pull, attach, discover, copy, tag, resolve: ORAS's names and flags. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';
import {
  transferLimits,
  withConcurrency,
  withParallelDownloads,
  withTransferConcurrency,
  withOutputOptions,
  withRemoteOptions,
  type CommonArgs,
} from '../options.js';
import { withConnectionOptions, withDistributionSpec, withEndTlsOptions } from '../remote-flags.js';
import { lazy } from './lazy.js';

export interface PushArgs extends CommonArgs {
  reference: string;
  files: string[];
  annotation?: string[];
  'annotation-file'?: string;
  'artifact-type'?: string;
  config?: string;
  'image-spec'?: 'v1.1' | 'v1.0';
  'export-manifest'?: string;
  concurrency?: number;
  'disable-path-validation'?: boolean;
  title?: string;
  'digest-cache'?: boolean;
  'artifact-platform'?: string;
}

export interface PullArgs extends CommonArgs {
  reference: string;
  'cache-dir'?: string;
  output: string;
  include?: string[];
  'keep-old-files'?: boolean;
  'allow-path-traversal'?: boolean;
  'allow-large-expansion'?: boolean;
  platform?: string;
  concurrency?: number;
  'include-subject'?: boolean;
  parallel?: number;
}

export interface AttachArgs extends CommonArgs {
  reference: string;
  files: string[];
  'artifact-type': string;
  annotation?: string[];
  'annotation-file'?: string;
  'image-spec'?: 'v1.1' | 'v1.0';
  'export-manifest'?: string;
  concurrency?: number;
  'disable-path-validation'?: boolean;
  platform?: string;
  'digest-cache'?: boolean;
  config?: string;
  'artifact-platform'?: string;
}

export interface DiscoverArgs extends CommonArgs {
  reference: string;
  'artifact-type'?: string;
  output?: 'tree' | 'table' | 'json';
  depth?: number;
  platform?: string;
}

export interface CopyArgs extends CommonArgs {
  from: string;
  to: string;
  recursive?: boolean;
  'from-oci-layout'?: boolean;
  'to-oci-layout'?: boolean;
  platform?: string;
  concurrency: number;
  parallel?: number;
  'cache-dir'?: string;
}

export interface TagArgs extends CommonArgs {
  reference: string;
  tags: string[];
  concurrency?: number;
}

export interface ResolveArgs extends CommonArgs {
  reference: string;
  'full-reference'?: boolean;
  platform?: string;
}

const common = <T>(yargs: Argv<T>) => withOutputOptions(withRemoteOptions(yargs));
/** cp's own connection flags for each end: --from-header, --to-resolve, --to-distribution-spec, …. */
const fromAndTo = <T>(yargs: Argv<T>) => {
  const from = withEndTlsOptions(
    withDistributionSpec(withConnectionOptions(yargs, 'from-'), 'from-'),
    'from-',
  );
  return withEndTlsOptions(withDistributionSpec(withConnectionOptions(from, 'to-'), 'to-'), 'to-');
};
const annotations = <T>(yargs: Argv<T>) =>
  yargs
    .option('digest-cache', {
      type: 'boolean',
      default: true,
      describe:
        'Remember digests of large files by inode, size and times, so an unchanged file is not hashed again (--no-digest-cache: always hash; also FERRY_DIGEST_CACHE=0)',
    })
    .option('annotation', {
      alias: 'a',
      type: 'string',
      array: true,
      describe: 'Manifest annotation key=value (repeatable)',
    })
    .option('annotation-file', {
      type: 'string',
      describe: 'JSON file of annotations: {"$manifest": {…}, "$config": {…}, "<file>": {…}}',
    });

export function artifactCommands(io: Io): CommandModule<object, never>[] {
  const push: CommandModule<object, PushArgs> = {
    command: 'push <reference> [files..]',
    describe: 'Push files (and directories) to a registry as an OCI artifact',
    builder: (yargs) =>
      withTransferConcurrency(annotations(common(yargs)))
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository[:tag[,tag…]]',
        })
        .positional('files', {
          type: 'string',
          array: true,
          default: [],
          describe: '<file>[:<mediaType>], or - for stdin',
        })
        .option('artifact-type', {
          type: 'string',
          describe: 'The artifact type (OCI 1.1 artifactType)',
        })
        .option('config', {
          type: 'string',
          describe: 'Config file[:mediaType] instead of the empty config',
        })
        .option('image-spec', {
          choices: ['v1.1', 'v1.0'] as const,
          describe:
            'Manifest flavour (default v1.1; v1.0 when --config is given without --artifact-type, as ORAS)',
        })
        .option('export-manifest', {
          type: 'string',
          describe: 'Also write the pushed manifest to this file',
        })
        .option('disable-path-validation', {
          type: 'boolean',
          describe: 'Allow absolute paths and .. in file titles',
        })
        .option('title', { type: 'string', describe: 'Title of the file read from stdin (-)' })
        .option('artifact-platform', {
          type: 'string',
          describe:
            'os/arch[/variant][:os.version]: a config that declares this platform (not with --config)',
        })
        .example(
          '$0 push localhost:5000/models/tiny:v1,latest model.safetensors:application/vnd.example.weights',
          'Push a file with a media type under two tags',
        )
        .example(
          '$0 push localhost:5000/data/set:v1 ./dataset/ -a org.opencontainers.image.description="training data"',
          'Push a directory (as reproducible tar+gzip) with an annotation',
        )
        .example(
          'cat report.pdf | $0 push localhost:5000/docs:v1 - --title report.pdf',
          'Push from stdin',
        ) as unknown as Argv<PushArgs>,
    handler: lazy(io, () => import('../run/push.js')),
  };
  const pull: CommandModule<object, PullArgs> = {
    command: 'pull <reference>',
    describe: 'Pull the files of an artifact into a directory (or one file to stdout)',
    builder: (yargs) =>
      withParallelDownloads(withTransferConcurrency(common(yargs)))
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'registry/repository:tag or @digest',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          default: '.',
          describe: 'Output directory, or - for stdout (one file)',
        })
        .option('include', {
          type: 'string',
          array: true,
          describe: 'Only files whose title matches this glob (repeatable)',
        })
        .option('keep-old-files', {
          alias: 'k',
          type: 'boolean',
          describe: 'Fail rather than overwrite existing files',
        })
        .option('allow-path-traversal', {
          alias: 'T',
          type: 'boolean',
          describe: 'Allow titles that escape the output directory',
        })
        .option('allow-large-expansion', {
          type: 'boolean',
          describe:
            'Let a directory layer expand past 100 MiB and 100 times its compressed size (refused by default as a likely decompression bomb)',
        })
        .option('platform', {
          type: 'string',
          describe: 'From a multi-platform index, pull os/arch[/variant]',
        })
        .option('cache-dir', {
          type: 'string',
          describe: 'Download cache (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
        })
        .option('include-subject', {
          type: 'boolean',
          describe: 'Also pull the files of its subject, recursively',
        })
        .example('$0 pull localhost:5000/models/tiny:v1 -o ./model', 'Pull every file into ./model')
        .example(
          '$0 pull localhost:5000/docs:v1 --include "*.pdf" -o - > report.pdf',
          'Stream one file to stdout',
        ) as unknown as Argv<PullArgs>,
    handler: lazy(io, () => import('../run/pull.js')),
  };
  const attach: CommandModule<object, AttachArgs> = {
    command: 'attach <reference> [files..]',
    describe: 'Attach files or annotations to an existing artifact (a referrer with a subject)',
    builder: (yargs) =>
      withDistributionSpec(withTransferConcurrency(annotations(common(yargs))))
        .positional('reference', {
          type: 'string',
          demandOption: true,
          describe: 'The subject: registry/repository:tag or @digest',
        })
        .positional('files', {
          type: 'string',
          array: true,
          default: [],
          describe: '<file>[:<mediaType>]',
        })
        .option('artifact-type', {
          type: 'string',
          demandOption: true,
          describe: 'The artifact type of the attachment',
        })
        .option('image-spec', {
          choices: ['v1.1', 'v1.0'] as const,
          describe:
            'Manifest flavour (default v1.1; v1.0 when --config is given without --artifact-type, as ORAS)',
        })
        .option('export-manifest', {
          type: 'string',
          describe: 'Also write the attached manifest to this file',
        })
        .option('disable-path-validation', {
          type: 'boolean',
          describe: 'Allow absolute paths and .. in file titles',
        })
        .option('platform', {
          type: 'string',
          describe: 'Attach to the manifest for this platform of an index',
        })
        .option('config', {
          type: 'string',
          describe: 'Config file[:mediaType] instead of the empty config',
        })
        .option('artifact-platform', {
          type: 'string',
          describe:
            'os/arch[/variant][:os.version]: a config that declares this platform (not with --config)',
        })
        .example(
          '$0 attach localhost:5000/models/tiny:v1 sbom.spdx.json --artifact-type application/spdx+json',
          'Attach an SBOM',
        ) as unknown as Argv<AttachArgs>,
    handler: lazy(io, () => import('../run/attach.js')),
  };
  const discover: CommandModule<object, DiscoverArgs> = {
    command: 'discover <reference>',
    describe:
      'Show the referrers of an artifact (attachments, signatures, SBOMs) as a tree or JSON',
    builder: (yargs) =>
      withDistributionSpec(common(yargs))
        .positional('reference', { type: 'string', demandOption: true })
        .option('artifact-type', {
          type: 'string',
          describe: 'Only referrers of this artifact type',
        })
        .option('output', {
          choices: ['tree', 'table', 'json'] as const,
          describe: 'tree (default), table or json; same as --format',
        })
        // yargs adds these choices to the text and json every command has.
        .option('format', {
          choices: ['tree', 'table'] as const,
          default: 'text' as const,
          describe: 'tree (text, the default), table (ORAS’s columns, direct referrers) or json',
          group: 'Output options:',
        })
        .option('depth', {
          type: 'number',
          describe: 'How deep to follow referrers of referrers, 1 to 1000 [default: 100]',
        })
        .option('platform', {
          type: 'string',
          describe: 'Start from the manifest for this platform of an index',
        })
        .example(
          '$0 discover localhost:5000/models/tiny:v1',
          'Tree of everything attached',
        ) as unknown as Argv<DiscoverArgs>,
    handler: lazy(io, () => import('../run/discover.js')),
  };
  const copy: CommandModule<object, CopyArgs> = {
    command: 'copy <from> <to>',
    aliases: ['cp'],
    describe: 'Copy an artifact or image between registries and OCI layouts, digests unchanged',
    builder: (yargs) =>
      withParallelDownloads(fromAndTo(withConcurrency(common(yargs), 3)))
        .option('cache-dir', {
          type: 'string',
          describe:
            'Download cache for blobs fetched in parallel ranges (default $FERRY_CACHE, else $XDG_CACHE_HOME/ferry)',
        })
        .positional('from', { type: 'string', demandOption: true })
        .positional('to', {
          type: 'string',
          demandOption: true,
          describe: 'Destination, with optional ,tag list',
        })
        .option('recursive', {
          alias: 'r',
          type: 'boolean',
          describe: 'Also copy referrers, recursively',
        })
        .option('from-oci-layout', {
          type: 'boolean',
          describe: 'The source is an OCI layout directory',
        })
        .option('to-oci-layout', {
          type: 'boolean',
          describe: 'The destination is an OCI layout directory',
        })
        .option('platform', { type: 'string', describe: 'Copy only this platform from an index' })
        .option('from-username', {
          type: 'string',
          describe: 'Source registry username',
          group: 'Remote options:',
        })
        .option('from-password', {
          type: 'string',
          describe: 'Source registry password or identity token (prefer --from-password-stdin)',
          group: 'Remote options:',
        })
        .option('from-password-stdin', {
          type: 'boolean',
          describe: 'Read the source password from stdin',
          group: 'Remote options:',
        })
        .option('to-username', {
          type: 'string',
          describe: 'Destination registry username (-u means the same)',
          group: 'Remote options:',
        })
        .option('to-password', {
          type: 'string',
          describe: 'Destination registry password or identity token (-p means the same)',
          group: 'Remote options:',
        })
        .option('to-password-stdin', {
          type: 'boolean',
          describe: 'Read the destination password from stdin (--password-stdin means the same)',
          group: 'Remote options:',
        })
        .example(
          '$0 cp --from-username me --from-password-stdin ghcr.io/a/b:v1 localhost:5000/b:v1',
          'Copy with credentials for the source registry only',
        )
        .example(
          '$0 cp -r localhost:5000/a:v1 localhost:5000/b:v1',
          'Copy with referrers (blobs are mounted, not re-sent)',
        )
        .example(
          '$0 cp localhost:5000/a:v1 ./layout:v1 --to-oci-layout',
          'Copy into an OCI layout',
        ) as unknown as Argv<CopyArgs>,
    handler: lazy(io, () => import('../run/copy.js')),
  };
  const tag: CommandModule<object, TagArgs> = {
    command: 'tag <reference> <tags..>',
    describe: 'Point more tags at a manifest',
    builder: (yargs) =>
      common(yargs)
        .positional('reference', { type: 'string', demandOption: true })
        .positional('tags', { type: 'string', array: true, demandOption: true })
        .option('concurrency', {
          type: 'number',
          default: 5,
          describe: 'Tags pointed at once',
          coerce: (value: number) => transferLimits(value).concurrency,
        })
        .example(
          '$0 tag localhost:5000/models/tiny:v1 stable latest',
          'Add two tags',
        ) as unknown as Argv<TagArgs>,
    handler: lazy(io, () => import('../run/tag.js')),
  };
  const resolve: CommandModule<object, ResolveArgs> = {
    command: 'resolve <reference>',
    describe: 'Print the digest a tag points at',
    builder: (yargs) =>
      common(yargs)
        .positional('reference', { type: 'string', demandOption: true })
        .option('full-reference', {
          alias: 'l',
          type: 'boolean',
          describe: 'Print registry/repository@digest',
        })
        .option('platform', {
          type: 'string',
          describe: 'Resolve the manifest for this platform of an index',
        })
        .example(
          '$0 resolve localhost:5000/models/tiny:v1',
          'sha256:…',
        ) as unknown as Argv<ResolveArgs>,
    handler: lazy(io, () => import('../run/resolve.js')),
  };
  return [push, pull, attach, discover, copy, tag, resolve] as unknown as CommandModule<
    object,
    never
  >[];
}
