/**
 * Bottle tarballs made by the tests, byte for byte reproducible: a ustar writer (files,
 * directories, symlinks; mtime 0, uid/gid 0) gzipped by zlib, laid out as `brew bottle` lays a
 * keg out (`<name>/<pkg_version>/bin/<name>`, `INSTALL_RECEIPT.json`, `.brew/<name>.rb`), and the
 * tab that goes into the receipt.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type TarEntry =
  | { type: 'file'; name: string; content: string | Buffer; mode?: number }
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'symlink'; name: string; target: string };

function header(name: string, type: string, size: number, mode: number, link = ''): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name over 100 bytes: ${name}`);
  const block = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    block.write(value.slice(0, length), offset, length, 'utf8');
  const octal = (value: number, length: number) =>
    `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(mode, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, type);
  field(157, 100, link);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** A ustar archive of `entries`, in order (names are written as given: `../x` and `/x` too). */
export function tarOf(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (entry.type === 'dir') {
      blocks.push(header(entry.name, '5', 0, entry.mode ?? 0o755));
    } else if (entry.type === 'symlink') {
      blocks.push(header(entry.name, '2', 0, 0o777, entry.target));
    } else {
      const data = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content);
      blocks.push(header(entry.name, '0', data.byteLength, entry.mode ?? 0o644), data);
      blocks.push(Buffer.alloc((512 - (data.byteLength % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface Dependency {
  name: string;
  version: string;
  revision?: number;
}

export interface TabOptions {
  arch?: 'x86_64' | 'arm64';
  os?: 'Linux' | 'Macintosh';
  osVersion?: string;
  /** Written to the tab's runtime_dependencies, declared directly. */
  dependencies?: Dependency[];
  sourceModifiedTime?: number;
}

/** A current-style tab (Tab#to_bottle_hash keys), as `brew bottle` writes into the receipt. */
export function makeTab(options: TabOptions = {}): Record<string, unknown> {
  const os = options.os ?? 'Linux';
  return {
    homebrew_version: '4.4.0',
    changed_files: [],
    source_modified_time: options.sourceModifiedTime ?? 1_700_000_000,
    compiler: os === 'Linux' ? 'gcc-11' : 'clang',
    runtime_dependencies: (options.dependencies ?? []).map((dep) => ({
      full_name: dep.name,
      version: dep.version,
      revision: dep.revision ?? 0,
      pkg_version: dep.revision ? `${dep.version}_${dep.revision}` : dep.version,
      declared_directly: true,
    })),
    arch: options.arch ?? 'x86_64',
    built_on:
      os === 'Linux'
        ? {
            os: 'Linux',
            os_version: options.osVersion ?? 'Ubuntu 22.04',
            cpu_family: 'skylake',
            glibc_version: '2.35',
            oldest_cpu_family: 'core2',
          }
        : { os: 'Macintosh', os_version: options.osVersion ?? 'macOS 14', cpu_family: 'penryn' },
  };
}

export interface BottleSpec {
  name: string;
  version: string;
  /** Bottle tag, e.g. x86_64_linux. */
  tag: string;
  /** What goes into INSTALL_RECEIPT.json; undefined leaves the receipt out. */
  receipt?: Record<string, unknown> | undefined;
  /** Extra files under the keg (`share/doc.txt` → `<name>/<version>/share/doc.txt`). */
  extra?: Record<string, string>;
}

export interface Bottle {
  path: string;
  fileName: string;
  bytes: Buffer;
  /** hex sha256 of the .tar.gz */
  sha256: string;
  /** Every regular file of the keg, relative to `<name>/<version>/`, with its content. */
  files: Record<string, Buffer>;
}

/** `<name>--<version>.<tag>.bottle.tar.gz`: Homebrew's local file name. */
export function bottleFileName(name: string, version: string, tag: string): string {
  return `${name}--${version}.${tag}.bottle.tar.gz`;
}

/** The tar entries of a keg: directories first, as `tar` lists them. */
export function kegEntries(spec: BottleSpec): TarEntry[] {
  const root = `${spec.name}/${spec.version}`;
  const files: Record<string, Buffer> = {
    [`bin/${spec.name}`]: Buffer.from(
      `#!/bin/sh\necho "${spec.name} ${spec.version} ${spec.tag}"\n`,
    ),
    [`.brew/${spec.name}.rb`]: Buffer.from(
      `class ${spec.name[0]?.toUpperCase()}${spec.name.slice(1)} < Formula\n  version "${spec.version}"\nend\n`,
    ),
  };
  if (spec.receipt) {
    files['INSTALL_RECEIPT.json'] = Buffer.from(JSON.stringify(spec.receipt, null, 2) + '\n');
  }
  for (const [path, content] of Object.entries(spec.extra ?? {}))
    files[path] = Buffer.from(content);
  const dirs = new Set<string>([`${spec.name}/`, `${root}/`]);
  for (const path of Object.keys(files)) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`${root}/${parts.slice(0, i).join('/')}/`);
  }
  return [
    ...[...dirs].map((name): TarEntry => ({ type: 'dir', name })),
    ...Object.entries(files).map(([path, content]): TarEntry => ({
      type: 'file',
      name: `${root}/${path}`,
      content,
      mode: path.startsWith('bin/') ? 0o755 : 0o644,
    })),
  ];
}

/** Writes a gzipped bottle into `dir` under its Homebrew file name. */
export async function writeBottle(
  dir: string,
  spec: BottleSpec,
  fileName = bottleFileName(spec.name, spec.version, spec.tag),
): Promise<Bottle> {
  const entries = kegEntries(spec);
  const bytes = gzipSync(tarOf(entries));
  const path = join(dir, fileName);
  await writeFile(path, bytes);
  const root = `${spec.name}/${spec.version}/`;
  const files: Record<string, Buffer> = {};
  for (const entry of entries) {
    if (entry.type === 'file') files[entry.name.slice(root.length)] = Buffer.from(entry.content);
  }
  return { path, fileName, bytes, sha256: sha256Hex(bytes), files };
}

/** Writes an arbitrary archive (tar-slip tests) as a gzipped bottle file. */
export async function writeRawBottle(
  dir: string,
  fileName: string,
  entries: TarEntry[],
): Promise<Bottle> {
  const bytes = gzipSync(tarOf(entries));
  const path = join(dir, fileName);
  await writeFile(path, bytes);
  return { path, fileName, bytes, sha256: sha256Hex(bytes), files: {} };
}
