/** `ferry bottle pull|info|push|mirror`: arguments, own flags and the types they parse. */
import type { BlobConcurrencyArgs, ParallelArgs } from '../../options/concurrency.js';
import type { CacheDirArgs, KeepInCacheArgs } from '../../options/cache.js';
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, optionGroup, positionalGroup } from '../../options/group.js';
import type { OutputDirectoryArgs } from '../../options/output.js';
import type { RemoteArgs } from '../../options/remote.js';

/** Where bottles are read from (push words its own help: it reads root_url first). */
function bottleLocationFlags(registry: string, namespace: string) {
  return optionGroup({
    registry: { type: 'string', describe: registry },
    namespace: { type: 'string', describe: namespace },
  });
}

export const bottleSourceFlags = bottleLocationFlags(
  'Registry holding the bottles (default ghcr.io, or $HOMEBREW_BOTTLE_DOMAIN’s)',
  'Namespace of formulae without a tap (default homebrew/core)',
);
export const bottleDestinationFlags = bottleLocationFlags(
  'Registry to push to (default: the bottle JSON’s root_url host, else ghcr.io)',
  'Repository path to push to (default: the bottle JSON’s root_url; required for ghcr.io without one)',
);
/** Absent: Homebrew's default (ghcr.io, or HOMEBREW_BOTTLE_DOMAIN's); for push, root_url's. */
export type BottleLocationArgs = ArgsOf<ReturnType<typeof bottleLocationFlags>>;

export const formulasArgument = positionalGroup({
  formulas: {
    type: 'string',
    array: true,
    demandOption: true,
    describe: 'sqlite, openssl@3, user/tap/foo',
  },
});

export const bottlePullFlags = optionGroup({
  version: { type: 'string', describe: 'Image tag (pkg_version[-rebuild]); default the newest' },
  tag: {
    type: 'string',
    describe: 'Bottle tag (arm64_sonoma, x86_64_linux…); default this machine’s',
  },
});

export const bottleUnpackFlags = optionGroup({
  'with-deps': { type: 'boolean', describe: 'Also pull the runtime dependencies from each tab' },
  extract: { type: 'string', describe: 'Unpack into this Cellar-like directory' },
});

export const formulaArgument = positionalGroup({
  formula: { type: 'string', demandOption: true },
});

export const imageVersionFlags = optionGroup({
  version: { type: 'string', describe: 'Image tag; default the newest' },
});

export const bottleFilesArgument = positionalGroup({
  files: {
    type: 'string',
    array: true,
    demandOption: true,
    describe: '*.bottle.json and/or *.bottle.tar.gz',
  },
});

export const bottlePushFlags = optionGroup({
  'keep-old': {
    type: 'boolean',
    describe:
      'Add to an existing version tag (refused without it); refuse a bottle tag already there',
  },
  'dry-run': {
    alias: 'n',
    type: 'boolean',
    describe: 'Print what would be uploaded; contact no registry, upload nothing',
  },
  'warn-on-upload-failure': {
    type: 'boolean',
    describe: 'Warn and skip an image whose tag exists or cannot be checked, instead of failing',
  },
  'root-url': {
    type: 'string',
    describe: 'Use this root_url (https://ghcr.io/v2/<org>/<repo>) instead of the bottle JSON’s',
  },
  'upload-only': {
    type: 'boolean',
    describe: 'Accepted for brew pr-upload compatibility: ferry only ever uploads',
  },
});

export const mirrorFormulasArgument = positionalGroup({
  formulas: { type: 'string', array: true, demandOption: true },
});

export const bottleMirrorFlags = optionGroup({
  to: {
    type: 'string',
    demandOption: true,
    describe: 'Destination registry[/prefix]; each image keeps its ghcr.io path under the prefix',
  },
  version: { type: 'string', describe: 'Image tag; default the newest' },
  tag: {
    type: 'string',
    array: true,
    describe: 'Only these bottle tags (repeatable; default all)',
  },
  'with-deps': { type: 'boolean', describe: 'Also mirror runtime dependencies' },
});

type Remote = RemoteArgs & FormatArgs & BottleLocationArgs;

export type BottlePullArgs = Remote &
  BlobConcurrencyArgs &
  ParallelArgs &
  ArgsOf<typeof formulasArgument> &
  ArgsOf<typeof bottlePullFlags> &
  OutputDirectoryArgs &
  ArgsOf<typeof bottleUnpackFlags> &
  CacheDirArgs &
  KeepInCacheArgs;

export type BottleInfoArgs = Remote &
  ArgsOf<typeof formulaArgument> &
  ArgsOf<typeof imageVersionFlags>;

export type BottlePushArgs = Remote &
  ArgsOf<typeof bottleFilesArgument> &
  ArgsOf<typeof bottlePushFlags>;

export type BottleMirrorArgs = Remote &
  BlobConcurrencyArgs &
  ArgsOf<typeof mirrorFormulasArgument> &
  ArgsOf<typeof bottleMirrorFlags>;
