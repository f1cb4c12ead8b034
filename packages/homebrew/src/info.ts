/** `ferry bottle info`: what a formula's bottle image holds, tag by tag. */
import { fetchManifest, type Target } from '@ferry/artifact';
import { Annotation, type Platform } from '@ferry/oci';
import { fetchBottleIndex, layerFromEntry, resolveImageTag } from './resolve.js';
import { bottleEntries } from './select.js';
import { dependencyPkgVersion } from './tab.js';

export interface BottleInfoEntry {
  tag: string;
  platform?: Platform | undefined;
  refName?: string | undefined;
  /** The bottle tarball: layer digest and size. */
  digest: string;
  size: number;
  /** The bottle's image manifest. */
  manifestDigest: string;
  installedSize?: number | undefined;
  /** Runtime dependencies from the tab, `name version`. */
  dependencies: { name: string; version: string }[];
}

export interface BottleInfo {
  repository: string;
  imageTag: string;
  indexDigest: string;
  indexSize: number;
  annotations: Record<string, string>;
  bottles: BottleInfoEntry[];
}

export async function bottleInfo(
  target: Target,
  repository: string,
  version?: string,
  signal?: AbortSignal,
): Promise<BottleInfo> {
  const imageTag = await resolveImageTag(target, version, signal);
  const image = await fetchBottleIndex(target, repository, imageTag, signal);
  const bottles: BottleInfoEntry[] = [];
  for (const entry of bottleEntries(image.index)) {
    // The entry describes the bottle by itself (sh.brew.bottle.digest and .size); older indexes
    // (Homebrew 3.6) carry no size, and only then is the bottle's manifest fetched for its layer.
    let layer = layerFromEntry(entry);
    if (!layer) {
      const fetched = await fetchManifest(target, entry.descriptor, { signal });
      layer = fetched.parsed.kind === 'manifest' ? fetched.parsed.manifest.layers[0] : undefined;
    }
    const annotations = entry.descriptor.annotations ?? {};
    const installed = Number(annotations[Annotation.BrewBottleInstalledSize]);
    bottles.push({
      tag: entry.tag,
      platform: entry.descriptor.platform,
      refName: entry.refName,
      digest: layer?.digest ?? `sha256:${entry.digestHex ?? ''}`,
      size: layer?.size ?? Number(annotations[Annotation.BrewBottleSize] ?? -1),
      manifestDigest: entry.descriptor.digest,
      ...(Number.isFinite(installed) ? { installedSize: installed } : {}),
      dependencies: (entry.tab?.runtimeDependencies ?? []).map((dep) => ({
        name: dep.fullName,
        version: dependencyPkgVersion(dep),
      })),
    });
  }
  return {
    repository,
    imageTag,
    indexDigest: image.indexManifest.descriptor.digest,
    indexSize: image.indexManifest.descriptor.size,
    annotations: image.index.annotations ?? {},
    bottles,
  };
}
