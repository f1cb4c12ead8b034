/**
 * Reading a model from a target: the manifest (from an index, the host's platform's), its config
 * when the format has one (bounded: a config is read whole), and the {@link ModelView}. Nothing
 * of the weights is fetched.
 */
import {
  ArtifactErrorCode,
  fetchManifest,
  readAll,
  type FetchedManifest,
  type Target,
} from '@ferry/artifact';
import { FerryError, type Descriptor, type ImageManifest } from '@ferry/oci';
import { needsConfig, readModel, type ModelView } from './read.js';

/** Configs larger than this are not read (a model config is a few KiB). */
export const MODEL_CONFIG_LIMIT = 4 * 1024 * 1024;

export interface InspectedModel extends ModelView {
  /** The manifest's descriptor. */
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** The config as parsed JSON, when read. */
  config?: unknown;
}

/** Fetches and parses a config blob; undefined when it is not JSON (ORAS's unknown configs). */
export async function fetchConfig(
  target: Target,
  descriptor: Descriptor,
  signal?: AbortSignal,
): Promise<unknown> {
  if (descriptor.size > MODEL_CONFIG_LIMIT) {
    throw new FerryError(
      ArtifactErrorCode.ContentTooLarge,
      `the model config is ${descriptor.size} bytes, more than the ${MODEL_CONFIG_LIMIT}-byte limit`,
    );
  }
  const bytes = await readAll(await target.fetch(descriptor, { signal }), MODEL_CONFIG_LIMIT);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Reads the model at `root` (an image manifest descriptor) from `target`. A caller that fetched
 * the manifest already (to see whether it is an index) passes it, saving a round trip.
 */
export async function inspectModel(
  target: Target,
  root: Descriptor,
  signal?: AbortSignal,
  fetched?: FetchedManifest,
): Promise<InspectedModel> {
  const { parsed } = fetched ?? (await fetchManifest(target, root, { signal }));
  if (parsed.kind !== 'manifest') {
    throw new FerryError(
      ArtifactErrorCode.NotAManifest,
      `${root.digest} is an index, not a model's manifest; choose one with --platform`,
    );
  }
  const manifest = parsed.manifest;
  const config = needsConfig(manifest)
    ? await fetchConfig(target, manifest.config, signal)
    : undefined;
  return {
    ...readModel(manifest, config),
    descriptor: root,
    manifest,
    ...(config !== undefined ? { config } : {}),
  };
}
