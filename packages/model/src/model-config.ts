/**
 * The ModelPack config (`application/vnd.cncf.model.config.v1+json`): `descriptor`, `modelfs`
 * and `config`, encoded as Go's encoding/json encodes model-spec's `Model` struct (fields in
 * struct order, empty ones omitted, `<>&` escaped), so that the same inputs give the same bytes.
 */
import type { Digest } from '@ferry/oci';

/** The fields a user can set with flags, or that ferry reads from the files. */
export interface ModelFacts {
  name?: string | undefined;
  version?: string | undefined;
  family?: string | undefined;
  architecture?: string | undefined;
  format?: string | undefined;
  paramSize?: string | undefined;
  precision?: string | undefined;
  quantization?: string | undefined;
  licenses?: string[] | undefined;
  authors?: string[] | undefined;
  vendor?: string | undefined;
  title?: string | undefined;
  description?: string | undefined;
  sourceURL?: string | undefined;
  docURL?: string | undefined;
  revision?: string | undefined;
  /** RFC 3339, UTC; only from SOURCE_DATE_EPOCH or --created (reproducible otherwise). */
  createdAt?: string | undefined;
}

export const FACT_KEYS = [
  'name',
  'version',
  'family',
  'architecture',
  'format',
  'paramSize',
  'precision',
  'quantization',
  'licenses',
  'authors',
  'vendor',
  'title',
  'description',
  'sourceURL',
  'docURL',
  'revision',
  'createdAt',
] as const satisfies readonly (keyof ModelFacts)[];

/** The first of each field that is set: flags before what the files say. */
export function mergeFacts(...layers: ModelFacts[]): ModelFacts {
  const merged: ModelFacts = {};
  for (const key of FACT_KEYS) {
    for (const layer of layers) {
      const value = layer[key];
      if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
        continue;
      }
      (merged as Record<string, unknown>)[key] = value;
      break;
    }
  }
  return merged;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

/** JSON with keys in the order given, undefined and empty strings/arrays left out. */
function encode(value: Json | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) return `[${value.map((v) => encode(v) ?? 'null').join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value)
      .map(([key, v]) => [key, Array.isArray(v) && v.length === 0 ? undefined : encode(v)])
      .filter((entry): entry is [string, string] => entry[1] !== undefined);
    return `{${fields.map(([key, v]) => `${JSON.stringify(key)}:${v}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The config's bytes for `facts` and one diffId per layer, in layer order. */
export function encodeModelConfig(facts: ModelFacts, diffIds: readonly Digest[]): Buffer {
  const descriptor = {
    createdAt: facts.createdAt,
    authors: facts.authors,
    family: facts.family,
    name: facts.name,
    docURL: facts.docURL,
    sourceURL: facts.sourceURL,
    version: facts.version,
    revision: facts.revision,
    vendor: facts.vendor,
    licenses: facts.licenses,
    title: facts.title,
    description: facts.description,
  };
  const config = {
    architecture: facts.architecture,
    format: facts.format,
    paramSize: facts.paramSize,
    precision: facts.precision,
    quantization: facts.quantization,
  };
  // Go's Model struct: descriptor, modelfs, config; the two objects are always present.
  const text = `{"descriptor":${encode(descriptor) ?? '{}'},"modelfs":{"type":"layers","diffIds":${JSON.stringify(diffIds)}},"config":${encode(config) ?? '{}'}}`;
  return Buffer.from(
    text.replace(
      /[<>&\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ),
  );
}
