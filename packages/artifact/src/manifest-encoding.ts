/**
 * Manifest JSON byte for byte as ORAS writes it: Go's encoding/json field order for
 * ocispec.Manifest and ocispec.Descriptor, map keys in byte order, empty fields omitted, and Go's
 * HTML-safe escapes, so that ferry and ORAS give one digest for one manifest.
 */
import type { Descriptor, ImageManifest } from '@ferry/oci';

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A copy with keys in byte order, as Go's encoding/json writes maps. */
export function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => byBytes(a, b)));
}

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

function encodeObject(fields: [string, string | undefined][]): string {
  const present = fields.filter((field): field is [string, string] => field[1] !== undefined);
  return `{${present.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/** Keys in byte order (JavaScript would put integer-like keys first); empty maps omitted. */
function encodeAnnotations(annotations: Record<string, string> | undefined): string | undefined {
  const keys = Object.keys(annotations ?? {}).sort(byBytes);
  if (keys.length === 0) return undefined;
  return encodeObject(keys.map((key) => [key, json(annotations?.[key])]));
}

/** A descriptor with its fields in the order of the Go struct, empty ones omitted (ocispec.Descriptor). */
function encodeDescriptor(d: Descriptor): string {
  const p = d.platform;
  const platformKeys = ['architecture', 'os', 'os.version', 'os.features', 'variant', 'features'];
  const platform =
    p && encodeObject(platformKeys.map((key) => [key, json(p[key as keyof typeof p])]));
  return encodeObject([
    ['mediaType', json(d.mediaType)],
    ['digest', json(d.digest)],
    ['size', json(d.size)],
    ['urls', d.urls?.length ? json(d.urls) : undefined],
    ['annotations', encodeAnnotations(d.annotations)],
    ['data', d.data ? json(d.data) : undefined],
    ['platform', platform],
    ['artifactType', d.artifactType ? json(d.artifactType) : undefined],
  ]);
}

/**
 * The manifest's bytes: fields in the order of Go's ocispec.Manifest, annotation keys sorted, and
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoder does, so that ferry and ORAS write the
 * same JSON for the same manifest.
 */
export function encodeManifest(manifest: ImageManifest): string {
  const text = encodeObject([
    ['schemaVersion', json(manifest.schemaVersion)],
    ['mediaType', manifest.mediaType ? json(manifest.mediaType) : undefined],
    ['artifactType', manifest.artifactType ? json(manifest.artifactType) : undefined],
    ['config', encodeDescriptor(manifest.config)],
    ['layers', `[${manifest.layers.map(encodeDescriptor).join(',')}]`],
    ['subject', manifest.subject && encodeDescriptor(manifest.subject)],
    ['annotations', encodeAnnotations(manifest.annotations)],
  ]);
  return text.replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
