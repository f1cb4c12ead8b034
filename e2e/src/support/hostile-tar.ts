// Hostile archives and manifests for the hostile-*.test.ts files: a ustar writer that writes
// whatever it is told (`..` names, absolute link targets, device entries, duplicates), a manifest
// builder for layers whose titles ferry's own push would refuse, and a recursive directory listing
// to show that a refused pull wrote nothing anywhere.
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type HostileEntry =
  | { type: 'file'; name: string; content?: string | Buffer; mode?: number }
  | { type: 'dir'; name: string }
  | { type: 'symlink'; name: string; target: string }
  | { type: 'link'; name: string; target: string }
  | { type: 'char'; name: string; major: number; minor: number };

const TYPE_FLAG = { file: '0', link: '1', symlink: '2', char: '3', dir: '5' } as const;

function header(entry: HostileEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => {
    if (Buffer.byteLength(value) > length) throw new Error(`tar field too long: ${value}`);
    block.write(value, offset, length, 'utf8');
  };
  const number = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  const mode =
    entry.type === 'file'
      ? (entry.mode ?? 0o644)
      : entry.type === 'dir'
        ? 0o755
        : entry.type === 'symlink'
          ? 0o777
          : 0o644;
  field(0, 100, entry.name);
  number(100, 8, mode);
  number(108, 8, 0);
  number(116, 8, 0);
  number(124, 12, size);
  number(136, 12, 0);
  field(148, 8, '        ');
  field(156, 1, TYPE_FLAG[entry.type]);
  if (entry.type === 'symlink' || entry.type === 'link') field(157, 100, entry.target);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  if (entry.type === 'char') {
    number(329, 8, entry.major);
    number(337, 8, entry.minor);
  }
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** A ustar archive of `entries`, in order, names and link targets written exactly as given. */
export function ustar(entries: HostileEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data =
      entry.type === 'file' ? Buffer.from(entry.content ?? `content of ${entry.name}\n`) : null;
    blocks.push(header(entry, data?.byteLength ?? 0));
    if (data) blocks.push(data, Buffer.alloc((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A gzipped tar, with the digests ferry's manifest needs: the layer's and the tar's own. */
export function tarGz(entries: HostileEntry[]): {
  bytes: Buffer;
  digest: string;
  tarDigest: string;
} {
  const tar = ustar(entries);
  const bytes = gzipSync(tar);
  return { bytes, digest: `sha256:${sha256Hex(bytes)}`, tarDigest: `sha256:${sha256Hex(tar)}` };
}

export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

export interface LayerSpec {
  digest: string;
  size: number;
  mediaType?: string;
  annotations: Record<string, string>;
}

/** An OCI 1.1 artifact manifest over the empty config, serialised as `ferry manifest push` takes it. */
export function artifactManifest(layers: LayerSpec[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.ferry.hostile.test',
    config: EMPTY_CONFIG,
    layers: layers.map((layer) => ({
      mediaType: layer.mediaType ?? 'application/octet-stream',
      digest: layer.digest,
      size: layer.size,
      annotations: layer.annotations,
    })),
  });
}

/**
 * Every path under `root` with its kind (and a symlink's target), sorted: two listings are equal
 * exactly when nothing was created, removed or replaced beneath `root`.
 */
export async function listTree(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        found.push(`${rel}/`);
        await walk(full, rel);
      } else if (stats.isSymbolicLink()) {
        found.push(`${rel} -> ${await readlink(full)}`);
      } else {
        found.push(`${rel} (${stats.isFile() ? `${stats.size} bytes` : 'special'})`);
      }
    }
  };
  await walk(root, '');
  return found.sort();
}
