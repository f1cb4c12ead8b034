/**
 * A test oracle: `GitHubPackages#upload_bottle` of current Homebrew/brew
 * (`Library/Homebrew/github_packages.rb`, with `SPDX.truncate_license` from `utils/spdx.rb` and
 * `SBOM.github_packages_sbom_supplement_annotation` from `sbom.rb`) ported statement by statement,
 * with no ferry code, so that ferry's builder can be compared byte for byte with what brew writes.
 * Ruby hashes keep insertion order and `JSON.pretty_generate` is `JSON.stringify(v, null, 2)`;
 * `to_json` is `JSON.stringify(v)`. Files are replaced by their known sha256 and sizes.
 */
import { createHash } from 'node:crypto';

export interface RefTagHash {
  local_filename: string;
  tab: Record<string, unknown>;
  path_exec_files?: string[];
  installed_size?: number;
  sbom?: unknown;
  /** Not in the JSON: what brew reads from the file. */
  file: { sha256: string; size: number; tarSha256: string };
}

export interface RefBottleHash {
  formula: {
    name: string;
    pkg_version: string;
    desc?: string;
    license?: string;
    homepage?: string;
    tap_git_path?: string;
    tap_git_revision?: string;
    tap_git_remote?: string;
  };
  bottle: { root_url: string; rebuild: number; date: string; tags: Record<string, RefTagHash> };
}

const URL_REGEX = /(?:https:\/\/ghcr\.io\/v2\/|docker:\/\/ghcr\.io\/)([\w-]+)\/([\w-]+)/;
const MACOS: Record<string, string> = {
  golden_gate: '27',
  tahoe: '26',
  sequoia: '15',
  sonoma: '14',
  ventura: '13',
  monterey: '12',
  big_sur: '11',
};

const blank = (v: unknown) =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && v.trim() === '') ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
function compactBlank<T extends Record<string, unknown>>(hash: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(hash).filter(([, v]) => !blank(v)));
}
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
function writeHash(hash: unknown): { sha256: string; size: number; json: string } {
  const json = JSON.stringify(hash, null, 2);
  return { sha256: sha256(json), size: Buffer.byteLength(json), json };
}

function truncateLicense(license: string, limit = 255): string {
  if ([...license].length <= limit) return license;
  const fallback = 'LicenseRef-Homebrew-cannot-represent';
  const parts: string[] = [];
  for (const segment of license.split(' AND ')) {
    const previous = parts.at(-1);
    if (previous && previous.split('(').length > previous.split(')').length) {
      parts[parts.length - 1] = `${previous} AND ${segment}`;
    } else parts.push(segment);
  }
  if (parts.length < 2) return fallback;
  const marker = 'LicenseRef-Homebrew-truncated';
  const kept: string[] = [];
  for (const part of parts) {
    if ([...[...kept, part, marker].join(' AND ')].length > limit) break;
    kept.push(part);
  }
  if (kept.length === 0) return fallback;
  return [...kept, marker].join(' AND ');
}

function sbomAnnotation(
  supplement: unknown,
  f: {
    fullName: string;
    name: string;
    version: string;
    sha: string;
    rootUrl: string;
    license: string;
    created: string;
  },
): string | undefined {
  const bottle = {
    SPDXID: `SPDXRef-Bottle-${f.name}`,
    name: f.name,
    versionInfo: f.version,
    filesAnalyzed: false,
    licenseDeclared: 'NOASSERTION',
    builtDate: f.created,
    licenseConcluded: f.license.trim() ? f.license : 'NOASSERTION',
    downloadLocation: `${f.rootUrl}/${f.name.replaceAll('@', '/').replaceAll('+', 'x')}/blobs/sha256:${f.sha}`,
    copyrightText: 'NOASSERTION',
    externalRefs: [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceLocator: `pkg:brew/${f.fullName}@${f.version}`,
        referenceType: 'purl',
      },
    ],
    checksums: [{ algorithm: 'SHA256', checksumValue: f.sha }],
  };
  const add = (s: unknown): Record<string, unknown> | undefined => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
    const h = s as Record<string, unknown>;
    if (typeof h.tags === 'object' && h.tags !== null && !Array.isArray(h.tags)) {
      const out: Record<string, unknown> = {};
      for (const [t, ts] of Object.entries(h.tags as Record<string, unknown>)) {
        const a = add(ts);
        if (a) out[t] = a;
      }
      if (Object.keys(out).length) return { tags: out };
    }
    if (!Array.isArray(h.packages)) return undefined;
    return {
      documentDescribes: Array.isArray(h.documentDescribes)
        ? [...h.documentDescribes, bottle.SPDXID]
        : [],
      packages: [...h.packages, bottle],
      relationships: Array.isArray(h.relationships) ? h.relationships : [],
    };
  };
  const merged = add(supplement);
  return merged && JSON.stringify(merged);
}

export interface RefUpload {
  /** `docker://ghcr.io/<org>/<repo>/<image>:<tag>` without the scheme. */
  imageUri: string;
  index: { sha256: string; size: number; json: string };
  manifests: { sha256: string; size: number; json: string }[];
  configs: { sha256: string; size: number; json: string }[];
}

/** `upload_bottle` without `keep_old`, up to the skopeo copy. */
export function referenceUpload(formulaFullName: string, bottleHash: RefBottleHash): RefUpload {
  const formulaName = bottleHash.formula.name;
  const match = URL_REGEX.exec(bottleHash.bottle.root_url);
  if (!match) throw new Error('root_url does not match URL_REGEX');
  const org = match[1]!;
  let repo = match[2]!;
  if (!repo.startsWith('homebrew-')) repo = `homebrew-${repo}`;
  const version = bottleHash.formula.pkg_version;
  const rebuild = bottleHash.bottle.rebuild;
  const versionRebuild = rebuild > 0 ? `${version}-${rebuild}` : version;
  const imageName = formulaName.replaceAll('@', '/').replaceAll('+', 'x');
  const imageUri = `ghcr.io/${org.toLowerCase()}/${repo.replace(/^homebrew-/, '')}/${imageName}:${versionRebuild}`;

  const gitPath = bottleHash.formula.tap_git_path ?? '';
  const gitRevision = bottleHash.formula.tap_git_revision;
  const source = `https://github.com/${org}/${repo}/blob/${gitRevision || 'HEAD'}/${gitPath}`;
  const coreTap = !formulaFullName.includes('/');
  const remote = bottleHash.formula.tap_git_remote;
  let documentation = coreTap
    ? `https://formulae.brew.sh/formula/${formulaName}`
    : remote?.startsWith('https://github.com/')
      ? remote
      : undefined;
  const license = bottleHash.formula.license ?? '';
  const createdDate = bottleHash.bottle.date;
  const formulaAnnotations = compactBlank({
    'com.github.package.type': 'homebrew_bottle',
    'org.opencontainers.image.created': createdDate,
    'org.opencontainers.image.description': bottleHash.formula.desc,
    'org.opencontainers.image.documentation': documentation,
    'org.opencontainers.image.licenses': truncateLicense(license),
    'org.opencontainers.image.ref.name': versionRebuild,
    'org.opencontainers.image.revision': gitRevision,
    'org.opencontainers.image.source': source,
    'org.opencontainers.image.title': formulaFullName,
    'org.opencontainers.image.url': bottleHash.formula.homepage,
    'org.opencontainers.image.vendor': org,
    'org.opencontainers.image.version': version,
  });
  const manifests: Record<string, unknown>[] = [];
  const manifestBlobs: RefUpload['manifests'] = [];
  const configs: RefUpload['configs'] = [];
  for (const [bottleTag, tagHash] of Object.entries(bottleHash.bottle.tags)) {
    const allBottle = bottleTag === 'all';
    const tag = `${version}.${bottleTag}${rebuild > 0 ? `.${rebuild}` : ''}`;
    const tarGzSha256 = tagHash.file.sha256;
    const tab = tagHash.tab;
    const tagArch = bottleTag.startsWith('arm64_') ? 'arm64' : 'x86_64';
    const architecture = { arm64: 'arm64', x86_64: 'amd64' }[
      ((tab.arch as string) || tagArch) as 'arm64'
    ];
    const builtOn = tab.built_on as Record<string, string> | undefined;
    const os = builtOn?.os
      ? { Linux: 'linux', Macintosh: 'darwin' }[builtOn.os as 'Linux']
      : bottleTag.endsWith('_linux')
        ? 'linux'
        : 'darwin';
    let osVersion = builtOn?.os_version || undefined;
    let glibcVersion: string | undefined;
    let cpuVariant: string | undefined;
    if (os === 'darwin') {
      osVersion ??= `macOS ${MACOS[bottleTag.replace(/^arm64_/, '')]}`;
    } else {
      osVersion = osVersion?.replace(/ LTS$/, '');
      osVersion ??= 'Ubuntu 24.04';
      glibcVersion = builtOn?.glibc_version || undefined;
      glibcVersion ??= '2.39';
      cpuVariant = (builtOn as Record<string, string> | undefined)?.oldest_cpu_family ?? 'core2';
    }
    const platformHash = compactBlank({ architecture, os, 'os.version': osVersion });
    const config = writeHash({
      ...platformHash,
      rootfs: { type: 'layers', diff_ids: [`sha256:${tagHash.file.tarSha256}`] },
    });
    configs.push(config);
    if (coreTap) documentation = `https://formulae.brew.sh/formula/${formulaName}`;
    const pathExecFiles = tagHash.path_exec_files?.length
      ? tagHash.path_exec_files.join(',')
      : undefined;
    const sbom = sbomAnnotation(tagHash.sbom, {
      fullName: formulaFullName,
      name: formulaName,
      version,
      sha: tarGzSha256,
      rootUrl: bottleHash.bottle.root_url,
      license,
      created: createdDate,
    });
    const shownTab = allBottle
      ? Object.fromEntries(Object.entries(tab).filter(([k]) => k !== 'arch' && k !== 'built_on'))
      : tab;
    const descriptorAnnotations = compactBlank({
      'org.opencontainers.image.ref.name': tag,
      'sh.brew.bottle.cpu.variant': cpuVariant,
      'sh.brew.bottle.digest': tarGzSha256,
      'sh.brew.bottle.glibc.version': glibcVersion,
      'sh.brew.bottle.size': String(tagHash.file.size),
      'sh.brew.bottle.installed_size':
        tagHash.installed_size === undefined ? '' : String(tagHash.installed_size),
      'sh.brew.license': license,
      'sh.brew.tab': JSON.stringify(shownTab),
      'sh.brew.sbom.supplement': sbom,
      'sh.brew.path_exec_files': pathExecFiles,
    });
    const merged = compactBlank({
      ...formulaAnnotations,
      ...descriptorAnnotations,
      'org.opencontainers.image.created': createdDate,
      'org.opencontainers.image.documentation': documentation,
      'org.opencontainers.image.title': `${formulaFullName} ${tag}`,
    });
    // `.sort.to_h`: Ruby sorts string keys bytewise.
    const annotations = Object.fromEntries(
      Object.entries(merged).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    const manifest = writeHash({
      schemaVersion: 2,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${config.sha256}`,
        size: config.size,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: `sha256:${tarGzSha256}`,
          size: tagHash.file.size,
          annotations: { 'org.opencontainers.image.title': tagHash.local_filename },
        },
      ],
      annotations,
    });
    manifestBlobs.push(manifest);
    // `{ …, platform: all_bottle ? nil : platform_hash, … }.compact`
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${manifest.sha256}`,
      size: manifest.size,
      ...(allBottle ? {} : { platform: platformHash }),
      annotations: descriptorAnnotations,
    });
  }
  const index = writeHash({ schemaVersion: 2, manifests, annotations: formulaAnnotations });
  return { imageUri, index, manifests: manifestBlobs, configs };
}
