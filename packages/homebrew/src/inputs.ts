/**
 * What `ferry bottle push` takes: the `*.bottle.json` files that `brew bottle --json` writes, with
 * their tarballs beside them, or bare tarballs (name, version and tag from the file name, the tab
 * from the INSTALL_RECEIPT.json inside).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DigestMismatchError, DigestTransform, ErrorCode, FerryError } from '@ferry/oci';
import { extract as tarExtract } from 'tar-stream';
import type { BottleInput } from './build.js';
import { parseFormulaFullName } from './names.js';
import { HomebrewErrorCode } from './errors.js';
import { parseBottleFileName } from './versions.js';

export interface BottleFile {
  bottle: BottleInput;
  tarballPath: string;
  /** The bottle JSON's `bottle.root_url` (`https://ghcr.io/v2/<org>/<repo>`), if it has one. */
  rootUrl?: string;
  /** The formula file in its tap (`tap_git_path`), for `org.opencontainers.image.source`. */
  gitPath?: string;
}

/**
 * `Tab#to_bottle_hash` (`tab.rb`): these keys in this order; `stdlib` only when not blank, and
 * `source` cut down to its `scm_revision` (left out when that is absent).
 */
const BOTTLE_TAB_KEYS = [
  'homebrew_version',
  'changed_files',
  'source_modified_time',
  'stdlib',
  'compiler',
  'runtime_dependencies',
  'source',
  'arch',
  'built_on',
];

interface Scanned {
  digest: string;
  size: number;
  diffId: string;
  receipt?: Record<string, unknown> | undefined;
}

/** One pass over a tarball: its sha256, the uncompressed tar's sha256, and INSTALL_RECEIPT.json. */
export async function scanTarball(path: string, wantReceipt: boolean): Promise<Scanned> {
  const gz = new DigestTransform();
  const tar = new DigestTransform();
  let receipt: Record<string, unknown> | undefined;
  const extractor = tarExtract();
  extractor.on('entry', (header, stream, next) => {
    const isReceipt =
      wantReceipt &&
      /^[^/]+\/[^/]+\/INSTALL_RECEIPT\.json$/.test(header.name) &&
      header.type === 'file';
    if (!isReceipt) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
    stream.on('end', () => {
      try {
        receipt = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        next();
      } catch (error) {
        next(
          new FerryError(
            HomebrewErrorCode.InvalidBottle,
            `${basename(path)}: ${header.name} is not JSON (${(error as Error).message})`,
          ),
        );
      }
    });
  });
  await pipeline(
    createReadStream(path, { highWaterMark: 1024 * 1024 }),
    gz,
    createGunzip(),
    tar,
    extractor,
  );
  return { digest: gz.digest().slice(7), size: gz.size, diffId: tar.digest().slice(7), receipt };
}

export function tabFromReceipt(receipt: Record<string, unknown>): Record<string, unknown> {
  const tab: Record<string, unknown> = {};
  for (const key of BOTTLE_TAB_KEYS) {
    if (!(key in receipt)) continue;
    let value = receipt[key];
    if (key === 'stdlib' && (value === null || value === undefined || String(value).trim() === ''))
      continue;
    if (key === 'source') {
      const revision = (value as { scm_revision?: unknown } | null)?.scm_revision;
      if (revision === undefined || revision === null) continue;
      value = { scm_revision: revision };
    }
    tab[key] = value;
  }
  return tab;
}

/**
 * `Time#utc.iso8601` (`2026-05-10T00:00:00Z`): what `brew bottle --json` writes as `bottle.date`
 * and pr-upload as `org.opencontainers.image.created` (an RFC 3339 date-time).
 */
export function iso8601(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Reads bottle JSON files and tarballs; a tarball named by a JSON file is not read twice. */
export async function readBottleFiles(
  paths: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<BottleFile[]> {
  const files: BottleFile[] = [];
  const covered = new Set<string>();
  for (const path of paths.filter((p) => p.endsWith('.json'))) {
    for (const file of await fromBottleJson(path)) {
      files.push(file);
      covered.add(file.tarballPath);
    }
  }
  for (const path of paths.filter((p) => !p.endsWith('.json'))) {
    if (covered.has(path) || covered.has(join(dirname(path), basename(path)))) continue;
    files.push(await fromTarball(path, env));
  }
  return files;
}

async function fromTarball(
  path: string,
  env: Record<string, string | undefined>,
): Promise<BottleFile> {
  const parsed = parseBottleFileName(basename(path));
  if (!parsed) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${path} is not named like a bottle (<name>--<version>.<tag>.bottle[.<rebuild>].tar.gz); give its .bottle.json instead`,
    );
  }
  const scanned = await scanTarball(path, true);
  if (!scanned.receipt) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${path} has no ${parsed.name}/${parsed.pkgVersion}/INSTALL_RECEIPT.json; give the .bottle.json that brew bottle --json wrote`,
    );
  }
  const tab = tabFromReceipt(scanned.receipt);
  // A date that does not change between runs: SOURCE_DATE_EPOCH, else when the sources last changed.
  const epoch = Number(env.SOURCE_DATE_EPOCH ?? tab.source_modified_time ?? 0);
  return {
    tarballPath: path,
    bottle: {
      name: parsed.name,
      pkgVersion: parsed.pkgVersion,
      rebuild: parsed.rebuild,
      tag: parsed.tag,
      tarball: { digest: scanned.digest, size: scanned.size, diffId: scanned.diffId },
      tab,
      created: iso8601(Number.isFinite(epoch) ? epoch : 0),
      fileName: basename(path),
    },
  };
}

interface BottleJson {
  formula?: {
    name?: string;
    pkg_version?: string;
    desc?: string;
    license?: string;
    homepage?: string;
    tap_git_revision?: string;
    tap_git_remote?: string;
    tap_git_path?: string;
    path?: string;
  };
  bottle?: {
    root_url?: string;
    rebuild?: number;
    date?: string;
    tags?: Record<
      string,
      {
        filename?: string;
        local_filename?: string;
        sha256?: string;
        tab?: Record<string, unknown>;
        path_exec_files?: string[];
        installed_size?: number;
        sbom?: unknown;
      }
    >;
  };
}

async function fromBottleJson(path: string): Promise<BottleFile[]> {
  let document: Record<string, BottleJson>;
  try {
    document = JSON.parse(await readFile(path, 'utf8')) as Record<string, BottleJson>;
  } catch (error) {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${path}: not JSON (${(error as Error).message})`,
    );
  }
  const files: BottleFile[] = [];
  for (const [fullName, entry] of Object.entries(document)) {
    const formula = entry.formula ?? {};
    const bottle = entry.bottle ?? {};
    if (!formula.pkg_version || !bottle.tags) {
      throw new FerryError(
        HomebrewErrorCode.InvalidBottle,
        `${path}: "${fullName}" lacks formula.pkg_version or bottle.tags (is it brew bottle --json output?)`,
      );
    }
    for (const [tag, info] of Object.entries(bottle.tags)) {
      const name = info.local_filename ?? info.filename;
      if (!name)
        throw new FerryError(
          HomebrewErrorCode.InvalidBottle,
          `${path}: the ${tag} bottle names no file`,
        );
      const tarballPath = join(dirname(path), name);
      await stat(tarballPath).catch(() => {
        throw new FerryError(ErrorCode.FileNotFound, `${tarballPath} (named by ${path}) not found`);
      });
      const scanned = await scanTarball(tarballPath, false);
      if (info.sha256 && info.sha256 !== scanned.digest) {
        throw new DigestMismatchError(
          `sha256:${info.sha256}`,
          `sha256:${scanned.digest}`,
          `${tarballPath} (as ${path} records it)`,
        );
      }
      files.push({
        tarballPath,
        ...(bottle.root_url ? { rootUrl: bottle.root_url } : {}),
        gitPath: formula.tap_git_path ?? formula.path ?? '',
        bottle: {
          name: fullName,
          pkgVersion: formula.pkg_version,
          rebuild: bottle.rebuild ?? 0,
          tag,
          tarball: { digest: scanned.digest, size: scanned.size, diffId: scanned.diffId },
          tab: info.tab ?? {},
          ...(info.installed_size !== undefined ? { installedSize: info.installed_size } : {}),
          ...(info.path_exec_files ? { pathExecFiles: info.path_exec_files } : {}),
          ...(formula.license ? { license: formula.license } : {}),
          ...(formula.desc ? { description: formula.desc } : {}),
          ...(formula.homepage ? { homepage: formula.homepage } : {}),
          ...(formula.tap_git_revision ? { revision: formula.tap_git_revision } : {}),
          ...(info.sbom !== undefined ? { sbom: info.sbom } : {}),
          // github_packages.rb: for taps whose remote is on GitHub, that remote is the
          // documentation (the source URL depends on where the bottle goes: see push.ts).
          ...(formula.tap_git_remote?.startsWith('https://github.com/') &&
          parseFormulaFullName(fullName).namespace !== 'homebrew/core'
            ? { documentation: formula.tap_git_remote }
            : {}),
          created: bottle.date ?? iso8601(Number(process.env.SOURCE_DATE_EPOCH ?? 0)),
          fileName: basename(tarballPath),
        },
      });
    }
  }
  return files;
}
