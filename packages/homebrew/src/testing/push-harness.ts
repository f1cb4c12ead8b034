/**
 * Shared by push.test.ts and push-bytes.test.ts: bottles and `brew bottle --json` files written for
 * a test, pushed into OCI layouts (one per host/repository), and compared with what
 * `GitHubPackages#upload_bottle` writes (github-packages-reference.ts).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect } from 'vitest';
import { fetchManifest, OciLayoutTarget, type Target } from '@ferry/artifact';
import { readBottleFiles } from '../inputs.js';
import { pushBottles, type PushBottlesOptions, type PushEvent } from '../push.js';
import { writeTarball, type WrittenTarball } from './bottle-files.js';
import type { RefBottleHash, RefTagHash, referenceUpload } from './github-packages-reference.js';

export let dir: string;
export let layouts: Map<string, OciLayoutTarget>;
export let opened: string[];

/** Registers a fresh directory and layouts for every test of the file that calls it. */
export function usePushHarness(): void {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-push-'));
    layouts = new Map();
    opened = [];
  });
}

export async function openTarget(host: string, repository: string): Promise<Target> {
  const key = `${host}/${repository}`;
  opened.push(key);
  let layout = layouts.get(key);
  if (!layout) {
    layout = await OciLayoutTarget.open(join(dir, 'layouts', key.replaceAll(/[/:]/g, '_')), {
      create: true,
    });
    layouts.set(key, layout);
  }
  return layout;
}

export const TAB_MAC = {
  homebrew_version: '5.1.0',
  changed_files: [],
  source_modified_time: 1_700_000_000,
  compiler: 'clang',
  runtime_dependencies: [],
  arch: 'arm64',
  built_on: { os: 'Macintosh', os_version: 'macOS 15', cpu_family: 'dunno', xcode: '16.0' },
};
export const TAB_LINUX = {
  ...TAB_MAC,
  compiler: 'gcc-12',
  arch: 'x86_64',
  built_on: {
    os: 'Linux',
    os_version: 'Ubuntu 24.04 LTS',
    glibc_version: '2.39',
    oldest_cpu_family: 'core2',
  },
};

export interface JsonBottle {
  fullName: string;
  version?: string;
  rebuild?: number;
  rootUrl: string;
  license?: string;
  tags: Record<string, { tab: Record<string, unknown>; sbom?: unknown }>;
}

/** Writes the tarballs and the `.bottle.json` brew bottle --json would; returns both views. */
export async function writeBottleJson(
  bottle: JsonBottle,
): Promise<{ jsonPath: string; hash: RefBottleHash }> {
  const name = bottle.fullName.split('/').pop()!;
  const version = bottle.version ?? '1.0';
  const rebuild = bottle.rebuild ?? 0;
  const tags: Record<string, RefTagHash> = {};
  for (const [tag, { tab, sbom }] of Object.entries(bottle.tags)) {
    const fileName = `${name}--${version}.${tag}.bottle${rebuild ? `.${rebuild}` : ''}.tar.gz`;
    const file: WrittenTarball = await writeTarball(dir, fileName, name, version);
    tags[tag] = {
      local_filename: fileName,
      tab,
      path_exec_files: [`bin/${name}`],
      installed_size: 4096,
      ...(sbom !== undefined ? { sbom } : {}),
      file: { sha256: file.sha256, size: file.size, tarSha256: file.tarSha256 },
    };
  }
  const hash: RefBottleHash = {
    formula: {
      name,
      pkg_version: version,
      desc: 'A test formula',
      license: bottle.license ?? 'MIT',
      homepage: 'https://example.com/foo',
      tap_git_path: `Formula/${name[0]}/${name}.rb`,
      tap_git_revision: '0123456789abcdef0123456789abcdef01234567',
      tap_git_remote: 'https://github.com/OtherOrg/homebrew-bottles',
    },
    bottle: { root_url: bottle.rootUrl, rebuild, date: '2026-05-10T00:00:00Z', tags },
  };
  const json = {
    [bottle.fullName]: {
      formula: hash.formula,
      bottle: {
        ...hash.bottle,
        tags: Object.fromEntries(
          Object.entries(tags).map(([tag, { file: _file, ...rest }]) => [
            tag,
            { ...rest, filename: rest.local_filename, sha256: _file.sha256 },
          ]),
        ),
      },
    },
  };
  const jsonPath = join(dir, `${name}--${version}.bottle.json`);
  await writeFile(jsonPath, JSON.stringify(json, null, 2));
  return { jsonPath, hash };
}

export async function push(paths: string[], options: Partial<PushBottlesOptions> = {}) {
  const events: PushEvent[] = [];
  const pushed = await pushBottles(await readBottleFiles(paths), {
    openTarget,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { pushed, events };
}

/** Every blob of the reference upload is in the layout, and the tag names its index. */
export async function expectSameAsBrew(
  key: string,
  tag: string,
  reference: ReturnType<typeof referenceUpload>,
) {
  const layout = layouts.get(key);
  expect(layout, `nothing pushed to ${key}`).toBeDefined();
  const indexDescriptor = await layout!.resolve(tag);
  const index = await fetchManifest(layout!, indexDescriptor);
  expect(index.bytes.toString('utf8')).toBe(reference.index.json);
  expect(indexDescriptor.digest).toBe(`sha256:${reference.index.sha256}`);
  for (const manifest of reference.manifests) {
    const fetched = await fetchManifest(layout!, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${manifest.sha256}`,
      size: manifest.size,
    });
    expect(fetched.bytes.toString('utf8')).toBe(manifest.json);
  }
  for (const config of reference.configs) {
    expect(
      await layout!.exists({
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${config.sha256}`,
        size: config.size,
      }),
    ).toBe(true);
  }
}
