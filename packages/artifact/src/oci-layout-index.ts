/**
 * The two metadata files of an OCI image layout, `oci-layout` and `index.json`: reading them
 * strictly, and writing index.json back without losing fields ferry does not know.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Annotation,
  FerryError,
  ManifestInvalidError,
  MediaType,
  parseManifest,
  type Descriptor,
  type ImageIndex,
  type OciLayoutFile,
} from '@ferry/oci';
import { isErrno } from './oci-layout-fs.js';
import { ArtifactErrorCode } from './errors.js';

export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const LAYOUT_VERSION: OciLayoutFile['imageLayoutVersion'] = '1.0.0';

/** Byte for byte what skopeo and ORAS write. */
export const LAYOUT_FILE_CONTENT = JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION });
export const EMPTY_INDEX_CONTENT = JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [],
});

export const ERR_LAYOUT_INVALID = ArtifactErrorCode.LayoutInvalid;

/**
 * index.json as read. parseManifest validates in place, so this is the document itself, unknown
 * fields included, and a rewrite keeps what other tools put there.
 */
export type LayoutIndex = ImageIndex & Record<string, unknown>;

/** The tag an entry carries, if any. */
export function refName(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[Annotation.RefName];
}

/** Checks `oci-layout`; false when it is missing (the caller decides whether to create it). */
export async function checkLayoutFile(dir: string, name: string): Promise<boolean> {
  const path = join(dir, LAYOUT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as Partial<OciLayoutFile> | null)?.imageLayoutVersion;
  } catch (error) {
    throw new FerryError(ERR_LAYOUT_INVALID, `${name}: ${LAYOUT_FILE} is not valid JSON`, {
      cause: error,
    });
  }
  if (version !== LAYOUT_VERSION) {
    throw new FerryError(
      ERR_LAYOUT_INVALID,
      `${name}: ${LAYOUT_FILE} has imageLayoutVersion ${JSON.stringify(version)}; ferry reads "${LAYOUT_VERSION}"`,
    );
  }
  return true;
}

/**
 * Reads and validates index.json with the same parser as registry manifests (so a problem is
 * named by its JSON path). Returns `undefined` when the file is missing.
 */
export async function readLayoutIndex(dir: string, name: string): Promise<LayoutIndex | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, INDEX_FILE));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const invalid = (problem: string, cause?: unknown): FerryError =>
    new FerryError(ERR_LAYOUT_INVALID, `${name}: ${INDEX_FILE}: ${problem}`, { cause });
  let parsed;
  try {
    parsed = parseManifest(bytes);
  } catch (error) {
    if (error instanceof ManifestInvalidError)
      throw invalid(`${error.path}: ${error.problem}`, error);
    if (error instanceof FerryError) throw invalid(error.message, error);
    throw error;
  }
  if (parsed.kind !== 'index') throw invalid(`is a ${parsed.mediaType}, not an image index`);
  return parsed.index as LayoutIndex;
}

/** index.json text for `manifests`, keeping the other fields of the document they replace. */
export function serialiseIndex(index: LayoutIndex, manifests: readonly Descriptor[]): string {
  // schemaVersion and mediaType first, as ORAS writes them; an existing mediaType is kept.
  const { schemaVersion, mediaType, ...rest } = index;
  return JSON.stringify({
    schemaVersion,
    mediaType: mediaType ?? MediaType.OciIndex,
    ...rest,
    manifests,
  });
}

/** The index.json entry for a tag: what skopeo and ORAS write, plus platform and artifactType. */
export function tagEntry(descriptor: Descriptor, tag: string): Descriptor {
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.platform ? { platform: descriptor.platform } : {}),
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
    annotations: { [Annotation.RefName]: tag },
  };
}
