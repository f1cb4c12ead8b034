/** What the `ferry model` commands share: kinds from flags, terminal-safe text, fact rows. */
import { MODEL_KINDS, type ModelFacts, type ModelFile, type ModelKind } from '@ferry/model';
import { UsageError } from '../exit.js';
import { formatBytes } from '../progress.js';

/**
 * Text from a registry, made safe to print: control characters (ESC, CR, BEL, C1) and
 * bidirectional overrides become `\u…` escapes, so a hostile name cannot move the cursor, rewrite
 * earlier lines or reorder what is shown.
 */
export function terminalSafe(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const KIND_ALIASES: Record<string, ModelKind> = {
  weight: 'weights',
  weights: 'weights',
  model: 'weights',
  config: 'config',
  configs: 'config',
  'weight.config': 'config',
  doc: 'docs',
  docs: 'docs',
  code: 'code',
  dataset: 'datasets',
  datasets: 'datasets',
};

/** `--only weights,config --only docs` → kinds; a usage error names an unknown one. */
export function parseKinds(values: readonly string[] | undefined): ModelKind[] | undefined {
  if (!values?.length) return undefined;
  const kinds = new Set<ModelKind>();
  for (const value of values.flatMap((v) => v.split(','))) {
    const name = value.trim().toLowerCase();
    if (!name) continue;
    const kind = KIND_ALIASES[name];
    if (!kind) {
      throw new UsageError(
        `--only ${JSON.stringify(value)}: not a kind; use ${MODEL_KINDS.join(', ')} (comma-separated)`,
      );
    }
    kinds.add(kind);
  }
  return [...kinds];
}

/** The facts as `Label: value` rows, in a fixed order, escaped. */
export function factRows(facts: ModelFacts): [string, string][] {
  const rows: [string, string | string[] | undefined][] = [
    ['Name', facts.name],
    ['Title', facts.title],
    ['Version', facts.version],
    ['Family', facts.family],
    ['Architecture', facts.architecture],
    ['Format', facts.format],
    ['Parameters', facts.paramSize],
    ['Precision', facts.precision],
    ['Quantization', facts.quantization],
    ['Licenses', facts.licenses],
    ['Authors', facts.authors],
    ['Vendor', facts.vendor],
    ['Description', facts.description],
    ['Source', facts.sourceURL],
    ['Docs', facts.docURL],
    ['Revision', facts.revision],
    ['Created', facts.createdAt],
  ];
  return rows
    .filter((row): row is [string, string | string[]] => row[1] !== undefined && row[1].length > 0)
    .map(([label, value]) => [
      label,
      terminalSafe(Array.isArray(value) ? value.join(', ') : value),
    ]);
}

export function formatRows(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`);
}

/** A table of files: kind, size, digest, path. */
export function fileTable(files: readonly ModelFile[]): string[] {
  const rows = files.map((file) => [
    file.kind ?? '-',
    formatBytes(file.descriptor.size),
    file.descriptor.digest.slice(0, 19),
    terminalSafe(file.packing === 'raw' ? file.path : `${file.path} (${file.packing})`),
  ]);
  const headers = ['KIND', 'SIZE', 'DIGEST', 'PATH'];
  const widths = [0, 1, 2].map((i) =>
    Math.max(headers[i]!.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ');
  return [line(headers), ...rows.map(line)];
}

/** Files as the JSON output lists them. */
export function filesJson(files: readonly ModelFile[]) {
  return files.map((file) => ({
    path: file.path,
    kind: file.kind ?? null,
    packing: file.packing,
    mediaType: file.descriptor.mediaType,
    digest: file.descriptor.digest,
    size: file.descriptor.size,
    ...(file.descriptor.annotations ? { annotations: file.descriptor.annotations } : {}),
  }));
}
