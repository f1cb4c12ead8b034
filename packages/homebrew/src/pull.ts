/**
 * `ferry bottle pull`: what `brew fetch --force-bottle` does, without Homebrew. The bottle is
 * checked against its layer digest and `sh.brew.bottle.digest`, written under its Homebrew file
 * name only once verified, and optionally extracted into a Cellar-like tree.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import {
  applyDirectoryMetadata,
  canCopyTo,
  durable,
  extractTarGzip,
  limit,
  type Target,
} from '@ferry/artifact';
import {
  Annotation,
  digestStream,
  DigestMismatchError,
  FerryError,
  type Descriptor,
  ErrorCode,
} from '@ferry/oci';
import { makeDirectory } from '@ferry/registry';
import { HomebrewErrorCode } from './errors.js';
import { imageName, parseFormulaFullName } from './names.js';
import { chooseBottle, fetchBottleIndex, resolveImageTag } from './resolve.js';
import type { MatchOptions } from './select.js';
import { dependencyImages } from './tab.js';
import { bottleFileName, parseBottleFileName } from './versions.js';

export interface PullBottlesOptions {
  /** Formula names (`sqlite`, `openssl@3`, `user/tap/foo`). */
  formulas: string[];
  /** Where formulae without a tap live. Default `homebrew/core`. */
  namespace?: string;
  /** Image tag of the named formulae (not their dependencies); default the newest. */
  version?: string;
  /** The bottle tag to choose for (`arm64_sonoma`, `x86_64_linux`). */
  hostTag: string;
  /** How to match it (`noOlderVersions`: see {@link skipOrLaterBottles}). */
  match?: MatchOptions;
  outputDir: string;
  /** Also unpack each bottle into this Cellar-like directory. */
  extractDir?: string;
  /** Follow the tabs' runtime dependencies, each image once. */
  withDeps?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  /** A target for a repository such as `homebrew/core/sqlite`. */
  openTarget(repository: string): Target | Promise<Target>;
  onEvent?(event: BottleEvent): void;
}

export type BottleEvent =
  | { type: 'downloading'; repository: string; file: string; descriptor: Descriptor }
  | { type: 'progress'; descriptor: Descriptor; bytes: number }
  | { type: 'pulled'; bottle: PulledBottle };

export interface PulledBottle {
  /** The formula as named, or the dependency's full name from the tab. */
  formula: string;
  repository: string;
  imageTag: string;
  bottleTag: string;
  refName?: string | undefined;
  path: string;
  digest: string;
  size: number;
  /** True when the file was already there with the right digest: nothing was downloaded. */
  cached: boolean;
  dependency: boolean;
  /** The formula whose tab listed this one. */
  requiredBy?: string | undefined;
  extractedTo?: string | undefined;
}

interface Job {
  formula: string;
  repository: string;
  imageTag: string | undefined;
  /** The formula whose tab listed this one; undefined for formulae named by the user. */
  requiredBy: string | undefined;
}

export async function pullBottles(options: PullBottlesOptions): Promise<PulledBottle[]> {
  const namespace = options.namespace ?? 'homebrew/core';
  await makeDirectory(options.outputDir);
  if (options.extractDir) await makeDirectory(options.extractDir);
  const requested = new Set<string>();
  // Each image once, keyed by the tag it resolved to: a formula named on the command line (no
  // version: the newest) and reached as a dependency (an explicit version) is the same image.
  const claimed = new Set<string>();
  const results: PulledBottle[] = [];
  const pending: Promise<void>[] = [];
  const errors: unknown[] = [];
  const run = limit(Math.max(1, options.concurrency ?? 4));

  const schedule = (job: Job) => {
    const key = `${job.repository}:${job.imageTag ?? ''}`;
    if (requested.has(key)) return;
    requested.add(key);
    const work = (async () => {
      const pulled = await run(() => pullOne(job, options, claimed));
      if (!pulled) return;
      results.push(pulled.bottle);
      options.onEvent?.({ type: 'pulled', bottle: pulled.bottle });
      for (const dependency of pulled.dependencies) schedule(dependency);
    })();
    // Caught at once, so that a job failing while another is awaited is never unhandled.
    pending.push(work.catch((error: unknown) => void errors.push(error)));
  };

  for (const formula of options.formulas) {
    const { namespace: tapNamespace, name } = parseFormulaFullName(formula);
    schedule({
      formula,
      repository: `${tapNamespace === 'homebrew/core' ? namespace : tapNamespace}/${imageName(name)}`,
      imageTag: options.version,
      requiredBy: undefined,
    });
  }
  // Dependencies are scheduled as their parents finish: wait until no job is left.
  for (let settled = 0; settled < pending.length; settled++) await pending[settled];
  if (errors.length) throw errors[0];
  return results;
}

async function pullOne(
  job: Job,
  options: PullBottlesOptions,
  claimed: Set<string>,
): Promise<{ bottle: PulledBottle; dependencies: Job[] } | undefined> {
  const { signal } = options;
  const target = await options.openTarget(job.repository);
  const imageTag = await resolveImageTag(target, job.imageTag, signal);
  if (claimed.has(`${job.repository}:${imageTag}`)) return undefined;
  claimed.add(`${job.repository}:${imageTag}`);
  const image = await fetchBottleIndex(target, job.repository, imageTag, signal);
  const { entry, layer, tab } = await chooseBottle(
    target,
    image,
    options.hostTag,
    signal,
    options.match,
  );
  if (entry.digestHex && layer.digest !== `sha256:${entry.digestHex}`) {
    throw new DigestMismatchError(
      `sha256:${entry.digestHex}`,
      layer.digest,
      `${job.repository} ${entry.tag} (sh.brew.bottle.digest vs. layer)`,
    );
  }
  const file = bottleFile(layer, job, entry);
  const path = join(options.outputDir, file);
  const cached = await hasDigest(path, layer.digest);
  if (!cached) {
    options.onEvent?.({ type: 'downloading', repository: job.repository, file, descriptor: layer });
    const temporary = join(
      options.outputDir,
      `.${file}.ferry-${randomBytes(6).toString('hex')}.partial`,
    );
    try {
      const fetchOptions = {
        signal,
        onProgress: (bytes: number) =>
          options.onEvent?.({ type: 'progress', descriptor: layer, bytes }),
      };
      // A cache in front of the registry has verified the bytes: a kernel copy is enough.
      // Either way the file is synced before its rename, and the directory after it.
      if (canCopyTo(target)) await target.copyTo(layer, temporary, fetchOptions);
      else {
        await pipeline(await target.fetch(layer, fetchOptions), createWriteStream(temporary));
        await durable.syncPath(temporary);
      }
      await durable.rename(temporary, path);
      await durable.syncDirectory(options.outputDir);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
  const extractedTo = options.extractDir
    ? await extractBottle(path, file, options.extractDir, signal)
    : undefined;
  const bottle: PulledBottle = {
    formula: job.formula,
    repository: job.repository,
    imageTag,
    bottleTag: entry.tag,
    refName: entry.refName,
    path,
    digest: layer.digest,
    size: layer.size,
    cached,
    dependency: job.requiredBy !== undefined,
    requiredBy: job.requiredBy,
    extractedTo,
  };
  const dependencies =
    options.withDeps && tab
      ? dependencyImages(tab).map((dep) => ({
          formula: dep.fullName,
          repository: `${dep.namespace === 'homebrew/core' ? (options.namespace ?? 'homebrew/core') : dep.namespace}/${dep.imageName}`,
          imageTag: dep.tag,
          requiredBy: job.formula,
        }))
      : [];
  return { bottle, dependencies };
}

/** The layer's title when it is a plain bottle file name; otherwise Homebrew's own name for it. */
function bottleFile(
  layer: Descriptor,
  job: Job,
  entry: { tag: string; pkgVersion?: string | undefined; rebuild?: number | undefined },
): string {
  const name = parseFormulaFullName(job.formula).name;
  const title = layer.annotations?.[Annotation.Title];
  // The title is used only when it is a plain bottle file name of this very formula: an image
  // copied under another name must not write (or extract) another formula's files.
  if (title && !/[/\\]/.test(title) && parseBottleFileName(title)?.name === name) return title;
  if (!entry.pkgVersion) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${job.repository}: the ${entry.tag} bottle has neither a usable title nor a ref name`,
    );
  }
  return bottleFileName(name, entry.pkgVersion, entry.tag, entry.rebuild ?? 0);
}

async function hasDigest(path: string, digest: string): Promise<boolean> {
  try {
    await stat(path);
  } catch {
    return false;
  }
  return (
    (await digestStream(createReadStream(path, { highWaterMark: 1024 * 1024 }))).digest === digest
  );
}

/**
 * Unpacks `<name>/<version>/…` into `<cellar>/<name>/<version>`, through a staging directory and
 * the archive guards of @ferry/artifact (no absolute paths, no `..`, no links out, no devices).
 */
async function extractBottle(
  path: string,
  file: string,
  cellar: string,
  signal?: AbortSignal,
): Promise<string> {
  const parsed = parseBottleFileName(file);
  if (!parsed)
    throw new FerryError(HomebrewErrorCode.InvalidBottle, `${file} is not a bottle file name`);
  const name = parsed.name;
  const staging = await mkdtemp(join(cellar, `.${name}.ferry-`));
  try {
    const directories = await extractTarGzip(
      createReadStream(path, { highWaterMark: 1024 * 1024 }),
      staging,
      name,
      signal ? { signal } : {},
    );
    const keg = join(cellar, name);
    await mkdir(keg, { recursive: true });
    for (const version of await readdir(staging)) {
      const destination = join(keg, version);
      if (
        await stat(destination).then(
          () => true,
          () => false,
        )
      ) {
        throw new FerryError(
          ErrorCode.FileExists,
          `${destination} already exists; remove it to extract ${file} again`,
        );
      }
      await rename(join(staging, version), destination);
    }
    await applyDirectoryMetadata(
      keg,
      directories.filter((d) => d.segments.length > 0),
    );
    return keg;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
