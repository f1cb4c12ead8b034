/**
 * Any model artifact a user meets, read into one view: files with a kind, a path and how the
 * layer holds them, plus what the config says about the model. ModelPack (`vnd.cncf.model.*`)
 * and its older `cnai` form, KitOps ModelKits, Docker Model Runner models, and plain ORAS
 * artifacts (titled layers).
 */
import { Annotation, type Descriptor, type ImageManifest } from '@ferry/oci';
import { kindByTable } from './classify.js';
import {
  Cnai,
  DOCKER_LAYER_FILES,
  DockerModel,
  KitOps,
  ModelPack,
  parseKitOpsLayer,
  parseModelPackLayer,
  type ModelKind,
  type Packing,
} from './media-types.js';
import type { ModelFacts } from './model-config.js';

export type ModelFormat = 'modelpack' | 'cnai' | 'kitops' | 'docker' | 'oras';

export interface ModelFile {
  /**
   * Where the file goes, relative to the output directory, `/`-separated. For a tar layer, the
   * directory or file the archive holds (`.` for an archive of the model's root).
   */
  path: string;
  /** Undefined for an ORAS file whose name no rule of the table claims. */
  kind: ModelKind | undefined;
  packing: Packing;
  descriptor: Descriptor;
}

export interface ModelView {
  format: ModelFormat;
  facts: ModelFacts;
  files: ModelFile[];
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;
const texts = (value: unknown): string[] | undefined =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string' && v !== '')
    : undefined;
const object = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/** Which format a manifest is, from its artifact type, config media type and layers. */
export function modelFormatOf(manifest: ImageManifest): ModelFormat {
  const types = [manifest.artifactType, manifest.config.mediaType];
  if (types.includes(ModelPack.ArtifactType) || types.includes(ModelPack.ConfigMediaType))
    return 'modelpack';
  if (types.includes(Cnai.ArtifactType) || types.includes(Cnai.ConfigMediaType)) return 'cnai';
  if (types.includes(KitOps.ConfigMediaType)) return 'kitops';
  if (types.includes(DockerModel.ConfigV01) || types.includes(DockerModel.ConfigV02))
    return 'docker';
  const layer = manifest.layers.map((l) => l.mediaType);
  if (layer.some((t) => parseModelPackLayer(t)?.flavour === 'cncf')) return 'modelpack';
  if (layer.some((t) => parseModelPackLayer(t)?.flavour === 'cnai')) return 'cnai';
  if (layer.some((t) => parseKitOpsLayer(t))) return 'kitops';
  if (layer.some((t) => t.startsWith('application/vnd.docker.ai.'))) return 'docker';
  return 'oras';
}

function modelPackFiles(manifest: ImageManifest): ModelFile[] {
  const files: ModelFile[] = [];
  for (const descriptor of manifest.layers) {
    const parsed = parseModelPackLayer(descriptor.mediaType);
    const annotations = descriptor.annotations ?? {};
    const path =
      annotations[ModelPack.FilepathAnnotation] ??
      annotations[Cnai.FilepathAnnotation] ??
      annotations[Annotation.Title];
    if (!parsed || !path) continue;
    files.push({ path, kind: parsed.kind, packing: parsed.packing, descriptor });
  }
  return files;
}

/** Kitfile sections in the order KitOps writes their layers. */
function kitfilePaths(config: Record<string, unknown>): Record<string, string[]> {
  const model = object(config.model);
  const paths = (list: unknown) =>
    (Array.isArray(list) ? list : []).map((entry) => text(object(entry).path) ?? '');
  return {
    model: text(model.path) !== undefined ? [text(model.path) as string] : [],
    modelpart: paths(model.parts),
    code: paths(config.code),
    dataset: paths(config.datasets),
    docs: paths(config.docs),
  };
}

function kitOpsFiles(manifest: ImageManifest, config: Record<string, unknown>): ModelFile[] {
  const byKitfile = kitfilePaths(config);
  const seen: Record<string, number> = {};
  const files: ModelFile[] = [];
  for (const descriptor of manifest.layers) {
    const parsed = parseKitOpsLayer(descriptor.mediaType);
    if (!parsed) continue;
    // Newer kit writes the path on the layer; older ones list layers in Kitfile order.
    const index = (seen[parsed.section] = (seen[parsed.section] ?? -1) + 1);
    const path =
      descriptor.annotations?.[ModelPack.FilepathAnnotation] ?? byKitfile[parsed.section]?.[index];
    if (!path) continue;
    files.push({ path, kind: parsed.kind, packing: parsed.packing, descriptor });
  }
  return files;
}

function dockerFiles(manifest: ImageManifest): ModelFile[] {
  const files: ModelFile[] = [];
  const used: Record<string, number> = {};
  for (const descriptor of manifest.layers) {
    const known = DOCKER_LAYER_FILES[descriptor.mediaType];
    const given = descriptor.annotations?.[ModelPack.FilepathAnnotation];
    if (!known && !given) continue;
    let path = given ?? known?.name ?? '';
    if (!given && known && !known.tar) {
      // v0.1 names files by type: a second safetensors shard becomes model-2.safetensors.
      const count = (used[path] = (used[path] ?? 0) + 1);
      if (count > 1) {
        const dot = path.indexOf('.');
        path = dot > 0 ? `${path.slice(0, dot)}-${count}${path.slice(dot)}` : `${path}-${count}`;
      }
    }
    // A generic `model.file` layer is whatever its name says (a tokenizer, a config…).
    const byName = descriptor.mediaType === DockerModel.ModelFile ? kindByTable(path) : undefined;
    files.push({
      path,
      kind: byName ?? known?.kind ?? kindByTable(path),
      packing: known?.tar ? 'tar' : 'raw',
      descriptor,
    });
  }
  return files;
}

function orasFiles(manifest: ImageManifest): ModelFile[] {
  return manifest.layers.flatMap((descriptor) => {
    const path = descriptor.annotations?.[Annotation.Title];
    if (!path) return [];
    const directory = descriptor.annotations?.[Annotation.OrasContentUnpack] === 'true';
    return [
      {
        path,
        kind: directory ? undefined : kindByTable(path),
        packing: 'raw' as const,
        descriptor,
      },
    ];
  });
}

/** What the config says, in ModelPack's terms. */
export function factsFromConfig(format: ModelFormat, config: unknown): ModelFacts {
  const root = object(config);
  if (format === 'modelpack' || format === 'cnai') {
    const d = object(root.descriptor);
    const c = object(root.config);
    return {
      name: text(d.name),
      version: text(d.version),
      family: text(d.family),
      architecture: text(c.architecture),
      format: text(c.format),
      paramSize: text(c.paramSize),
      precision: text(c.precision),
      quantization: text(c.quantization),
      licenses: texts(d.licenses),
      authors: texts(d.authors),
      vendor: text(d.vendor),
      title: text(d.title),
      description: text(d.description),
      sourceURL: text(d.sourceURL),
      docURL: text(d.docURL),
      revision: text(d.revision),
      createdAt: text(d.createdAt),
    };
  }
  if (format === 'kitops') {
    const pkg = object(root.package);
    const model = object(root.model);
    const license = text(pkg.license) ?? text(model.license);
    return {
      name: text(pkg.name) ?? text(model.name),
      version: text(pkg.version) ?? text(model.version),
      format: text(model.framework),
      licenses: license ? [license] : undefined,
      authors: texts(pkg.authors),
      description: text(pkg.description) ?? text(model.description),
    };
  }
  if (format === 'docker') {
    const c = object(root.config);
    return {
      format: text(c.format),
      architecture: text(c.architecture),
      paramSize: text(c.parameters),
      quantization: text(c.quantization),
      createdAt: text(object(root.descriptor).created),
    };
  }
  return {};
}

/** Facts from an ORAS artifact's manifest annotations (`org.opencontainers.image.*`). */
function factsFromAnnotations(annotations: Record<string, string> | undefined): ModelFacts {
  const a = annotations ?? {};
  return {
    title: a['org.opencontainers.image.title'],
    description: a['org.opencontainers.image.description'],
    version: a['org.opencontainers.image.version'],
    licenses: a['org.opencontainers.image.licenses']
      ? [a['org.opencontainers.image.licenses']]
      : undefined,
    sourceURL: a['org.opencontainers.image.source'],
    revision: a['org.opencontainers.image.revision'],
    createdAt: a['org.opencontainers.image.created'],
  };
}

/** Reads a manifest (and its config, parsed, when the format has one) into a ModelView. */
export function readModel(manifest: ImageManifest, config?: unknown): ModelView {
  const format = modelFormatOf(manifest);
  const files =
    format === 'modelpack' || format === 'cnai'
      ? modelPackFiles(manifest)
      : format === 'kitops'
        ? kitOpsFiles(manifest, object(config))
        : format === 'docker'
          ? dockerFiles(manifest)
          : orasFiles(manifest);
  const facts =
    format === 'oras'
      ? factsFromAnnotations(manifest.annotations)
      : factsFromConfig(format, config);
  const clean = Object.fromEntries(
    Object.entries(facts).filter(([, v]) => v !== undefined),
  ) as ModelFacts;
  return { format, facts: clean, files };
}

/** Whether a format's config is worth fetching (ORAS configs say nothing about a model). */
export function needsConfig(manifest: ImageManifest): boolean {
  return modelFormatOf(manifest) !== 'oras';
}
