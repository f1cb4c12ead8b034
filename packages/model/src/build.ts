/**
 * A model directory as a ModelPack artifact: one uncompressed layer per file
 * (`application/vnd.cncf.model.<kind>.v1.raw`) carrying `org.cncf.model.filepath`,
 * `org.cncf.model.file.metadata+json` and `org.opencontainers.image.title` (so that `oras pull`
 * and `ferry pull` lay out the same tree), and a config filled from the files. Built on
 * @ferry/artifact's pack(), so hashing, the digest cache and uploads started while hashing work
 * as for `ferry push`. Reproducible: no time goes in unless given. No
 * `org.cncf.model.file.mediatype.untested`: kinds come from file names, which that key would have
 * to call untested, and a flag the user gave would have to call tested; saying neither is honest.
 */
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { encodeManifest, pack, type FileHasher, type PackedArtifact } from '@ferry/artifact';
import {
  Annotation,
  ErrorCode,
  FerryError,
  MediaType,
  computeDigest,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '@ferry/oci';
import { classifyFiles, type KindOverrides } from './classify.js';
import { inferFacts, type LocalModelFile } from './infer.js';
import { MODEL_KINDS, ModelPack, modelPackLayerMediaType, type ModelKind } from './media-types.js';
import { encodeModelConfig, mergeFacts, type ModelFacts } from './model-config.js';
import { walkModelDirectory, type WalkedFile } from './walk.js';
import { ModelErrorCode } from './errors.js';

export interface PackModelOptions {
  /** Globs that claim files for a kind before the table does. */
  overrides?: KindOverrides | undefined;
  /** Facts given by flags; they win over what the files say. */
  facts?: ModelFacts | undefined;
  /** Manifest annotations (`-a key=value`). */
  annotations?: Record<string, string> | undefined;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH), or an RFC 3339 time (--created). */
  created?: number | string | undefined;
  hashFile?: FileHasher | undefined;
  signal?: AbortSignal | undefined;
}

export interface PackedModel {
  packed: PackedArtifact;
  /** The config as JSON (also `packed.config`). */
  config: unknown;
  facts: ModelFacts;
  files: (LocalModelFile & { size: number; descriptor: Descriptor })[];
  /** Dot-directories and dot-files left out. */
  skipped: string[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The creation time as RFC 3339 UTC without fractions, as Go's time.RFC3339 writes it. */
export function createdAt(created: number | string | undefined): string | undefined {
  if (created === undefined) return undefined;
  if (typeof created === 'number') {
    if (!Number.isSafeInteger(created) || created < 0) {
      throw new FerryError(
        ErrorCode.InvalidOptions,
        `SOURCE_DATE_EPOCH must be whole seconds, not ${created}`,
      );
    }
    return new Date(created * 1000).toISOString().replace('.000Z', 'Z');
  }
  if (!RFC3339.test(created) || Number.isNaN(Date.parse(created))) {
    throw new FerryError(
      ErrorCode.InvalidOptions,
      `--created ${JSON.stringify(created)} is not an RFC 3339 time, like 2025-01-31T12:00:00Z`,
    );
  }
  return created;
}

/** The file metadata annotation: model-spec's FileMetadata, as Go encodes it. */
export function fileMetadata(file: WalkedFile, mtime: string): string {
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  return `{"name":${JSON.stringify(name)},"mode":${file.mode},"uid":0,"gid":0,"size":${file.size},"mtime":${JSON.stringify(mtime)},"typeflag":48}`;
}

const kindOrder = (kind: ModelKind) => MODEL_KINDS.indexOf(kind);

const HF_SNAPSHOT = /(?:^|[\\/])models--([^\\/]+)[\\/]snapshots[\\/]([^\\/]+)[\\/]*$/;

/**
 * A Hugging Face cache snapshot (`…/models--org--name/snapshots/<revision>`) names its model:
 * `name`, `revision` and `sourceURL` (https://huggingface.co/org/name), below flags and files.
 */
export function factsFromSnapshotPath(dir: string): ModelFacts {
  const match = HF_SNAPSHOT.exec(path.resolve(dir));
  if (!match) return {};
  const repository = (match[1] ?? '').split('--');
  return {
    name: repository[repository.length - 1],
    revision: match[2],
    sourceURL: `https://huggingface.co/${repository.join('/')}`,
  };
}

/** Walks, classifies, reads the headers and packs `dir`. Nothing is uploaded. */
export async function packModel(dir: string, options: PackModelOptions = {}): Promise<PackedModel> {
  const walked = await walkModelDirectory(dir);
  if (walked.files.length === 0) {
    throw new FerryError(ModelErrorCode.Empty, `${JSON.stringify(dir)} has no files to push`);
  }
  const kinds = new Map(
    classifyFiles(
      walked.files.map((file) => file.path),
      options.overrides,
    ).map((c) => [c.path, c.kind]),
  );
  // Weights first, then configs, docs, code and datasets; by path within a kind.
  const files = walked.files
    .map((file) => ({ ...file, kind: kinds.get(file.path) as ModelKind }))
    .sort(
      (a, b) =>
        kindOrder(a.kind) - kindOrder(b.kind) ||
        Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)),
    );

  const created = createdAt(options.created);
  const facts = mergeFacts(
    { ...options.facts, createdAt: created },
    await inferFacts(files),
    factsFromSnapshotPath(dir),
  );
  const mtime = created ?? '1970-01-01T00:00:00Z';
  const annotations = { ...options.annotations };
  if (created && annotations[Annotation.Created] === undefined)
    annotations[Annotation.Created] = created;

  const packed = await pack(
    files.map((file) => ({
      path: file.absolutePath,
      title: file.path,
      mediaType: modelPackLayerMediaType(file.kind, 'raw'),
    })),
    {
      artifactType: ModelPack.ArtifactType,
      annotations,
      fileAnnotations: Object.fromEntries(
        files.map((file) => [
          file.path,
          {
            [ModelPack.FilepathAnnotation]: file.path,
            [ModelPack.FileMetadataAnnotation]: fileMetadata(file, mtime),
          },
        ]),
      ),
      hashFile: options.hashFile,
      signal: options.signal,
    },
  );
  try {
    const diffIds = packed.layers.map((layer) => layer.descriptor.digest as Digest);
    const configBytes = encodeModelConfig(facts, diffIds);
    const configDescriptor: Descriptor = {
      mediaType: ModelPack.ConfigMediaType,
      digest: computeDigest(configBytes),
      size: configBytes.byteLength,
    };
    const manifest: ImageManifest = { ...packed.manifest, config: configDescriptor };
    const manifestBytes = Buffer.from(encodeManifest(manifest));
    const descriptor: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: computeDigest(manifestBytes),
      size: manifestBytes.byteLength,
      artifactType: ModelPack.ArtifactType,
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    };
    return {
      packed: {
        ...packed,
        manifest,
        manifestBytes,
        descriptor,
        config: { descriptor: configDescriptor, open: () => Readable.from([configBytes]) },
      },
      config: JSON.parse(configBytes.toString('utf8')),
      facts,
      files: files.map((file, index) => ({
        ...file,
        descriptor: packed.layers[index]?.descriptor as Descriptor,
      })),
      skipped: walked.skipped,
    };
  } catch (error) {
    await packed.cleanup();
    throw error;
  }
}
