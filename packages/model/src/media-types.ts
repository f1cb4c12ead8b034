/**
 * The media types and annotation keys of the model formats ferry reads and writes. Sources:
 * CNCF ModelPack model-spec v1 (`specs-go/v1/mediatype.go`, `annotations.go`; `cnai` is its
 * earlier name, still written by older modctl builds), KitOps (`pkg/lib/constants/mediaType.go`)
 * and Docker Model Runner (`pkg/distribution/types/config.go`).
 */

/** What a file in a model is: the kinds ModelPack names in its layer media types. */
export type ModelKind = 'weights' | 'config' | 'docs' | 'code' | 'datasets';

export const MODEL_KINDS: readonly ModelKind[] = ['weights', 'config', 'docs', 'code', 'datasets'];

/** How a ModelPack layer holds its file. ferry writes `raw`; it reads all four. */
export type Packing = 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd';

/** A ModelPack kind's media-type segment: `application/vnd.cncf.model.<segment>.v1.<packing>`. */
const KIND_SEGMENT: Record<ModelKind, string> = {
  weights: 'weight',
  config: 'weight.config',
  docs: 'doc',
  code: 'code',
  datasets: 'dataset',
};

export const ModelPack = {
  /** The manifest's `artifactType`. */
  ArtifactType: 'application/vnd.cncf.model.manifest.v1+json',
  ConfigMediaType: 'application/vnd.cncf.model.config.v1+json',
  FilepathAnnotation: 'org.cncf.model.filepath',
  FileMetadataAnnotation: 'org.cncf.model.file.metadata+json',
  UntestedAnnotation: 'org.cncf.model.file.mediatype.untested',
} as const;

/** The same, as CloudNativeAI/model-spec named them before v1 (`cnai`). */
export const Cnai = {
  ArtifactType: 'application/vnd.cnai.model.manifest.v1+json',
  ConfigMediaType: 'application/vnd.cnai.model.config.v1+json',
  FilepathAnnotation: 'org.cnai.model.filepath',
  FileMetadataAnnotation: 'org.cnai.model.file.metadata+json',
} as const;

export const KitOps = {
  ConfigMediaType: 'application/vnd.kitops.modelkit.config.v1+json',
  CliVersionAnnotation: 'ml.kitops.modelkit.cli-version',
} as const;

export const DockerModel = {
  ConfigV01: 'application/vnd.docker.ai.model.config.v0.1+json',
  ConfigV02: 'application/vnd.docker.ai.model.config.v0.2+json',
  Gguf: 'application/vnd.docker.ai.gguf.v3',
  Safetensors: 'application/vnd.docker.ai.safetensors',
  License: 'application/vnd.docker.ai.license',
  Mmproj: 'application/vnd.docker.ai.mmproj',
  ChatTemplate: 'application/vnd.docker.ai.chat.template.jinja',
  DirTar: 'application/vnd.docker.ai.dir.tar',
  VllmConfigTar: 'application/vnd.docker.ai.vllm.config.tar',
  Dduf: 'application/vnd.docker.ai.dduf',
  ModelFile: 'application/vnd.docker.ai.model.file',
} as const;

/** `application/vnd.cncf.model.weight.v1.raw` for (weights, raw). */
export function modelPackLayerMediaType(kind: ModelKind, packing: Packing = 'raw'): string {
  return `application/vnd.cncf.model.${KIND_SEGMENT[kind]}.v1.${packing}`;
}

const LAYER =
  /^application\/vnd\.(cncf|cnai)\.model\.(weight\.config|weight|doc|code|dataset)\.v1\.(raw|tar|tar\+gzip|tar\+zstd)$/;

/** Reads a ModelPack (or cnai) layer media type; undefined for anything else. */
export function parseModelPackLayer(
  mediaType: string,
): { flavour: 'cncf' | 'cnai'; kind: ModelKind; packing: Packing } | undefined {
  const match = LAYER.exec(mediaType);
  if (!match) return undefined;
  const segment = match[2] as string;
  const kind = (Object.keys(KIND_SEGMENT) as ModelKind[]).find((k) => KIND_SEGMENT[k] === segment);
  if (!kind) return undefined;
  return { flavour: match[1] as 'cncf' | 'cnai', kind, packing: match[3] as Packing };
}

const KITOPS_LAYER =
  /^application\/vnd\.kitops\.modelkit\.(model|modelpart|dataset|code|docs)\.v1\.(tar|tar\+gzip)$/;

/** Reads a KitOps layer media type: its Kitfile section and whether it is gzipped. */
export function parseKitOpsLayer(mediaType: string):
  | {
      section: 'model' | 'modelpart' | 'dataset' | 'code' | 'docs';
      kind: ModelKind;
      packing: Packing;
    }
  | undefined {
  const match = KITOPS_LAYER.exec(mediaType);
  if (!match) return undefined;
  const section = match[1] as 'model' | 'modelpart' | 'dataset' | 'code' | 'docs';
  const kind: ModelKind =
    section === 'model' || section === 'modelpart'
      ? 'weights'
      : section === 'dataset'
        ? 'datasets'
        : section;
  return { section, kind, packing: match[2] as Packing };
}

/**
 * Docker Model Runner layers: one file each. A v0.2 layer names its file with
 * `org.cncf.model.filepath`; a v0.1 layer does not, and gets the name listed here (numbered
 * when a model has several of one type: `model-2.safetensors`).
 */
export const DOCKER_LAYER_FILES: Record<string, { name: string; kind: ModelKind; tar?: true }> = {
  [DockerModel.Gguf]: { name: 'model.gguf', kind: 'weights' },
  [DockerModel.Safetensors]: { name: 'model.safetensors', kind: 'weights' },
  [DockerModel.Dduf]: { name: 'model.dduf', kind: 'weights' },
  [DockerModel.ModelFile]: { name: 'model.bin', kind: 'weights' },
  [DockerModel.Mmproj]: { name: 'model.mmproj', kind: 'weights' },
  [DockerModel.License]: { name: 'LICENSE', kind: 'docs' },
  [DockerModel.ChatTemplate]: { name: 'template.jinja', kind: 'config' },
  [DockerModel.DirTar]: { name: '.', kind: 'config', tar: true },
  [DockerModel.VllmConfigTar]: { name: '.', kind: 'config', tar: true },
};
