/**
 * The header of a GGUF file (llama.cpp, versions 2 and 3): magic `GGUF`, version, tensor count,
 * metadata key/value pairs, then tensor infos (name, dimensions, type, offset). Read through a
 * small window, never the tensor data; tokenizer arrays in the metadata are skipped over, not kept.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FerryError, quote } from '@ferry/oci';
import { ModelErrorCode } from './errors.js';

/** Past this many header bytes the file is refused (a real header is a few MiB at most). */
export const GGUF_HEADER_LIMIT = 512 * 1024 * 1024;

export interface GgufHeader {
  version: number;
  tensorCount: number;
  /** Scalar metadata (numbers, strings, booleans); arrays are left out. */
  metadata: Record<string, string | number | boolean>;
  architecture?: string | undefined;
  name?: string | undefined;
  /** `general.file_type` as llama.cpp names it, lower-cased: `q4_k_m`, `f16`, `bf16`. */
  fileType?: string | undefined;
  /** Elements of every tensor, from the tensor infos. */
  parameterCount: number;
}

/** llama.cpp's `llama_ftype` (`general.file_type`). */
const FILE_TYPES: Record<number, string> = {
  0: 'f32',
  1: 'f16',
  2: 'q4_0',
  3: 'q4_1',
  7: 'q8_0',
  8: 'q5_0',
  9: 'q5_1',
  10: 'q2_k',
  11: 'q3_k_s',
  12: 'q3_k_m',
  13: 'q3_k_l',
  14: 'q4_k_s',
  15: 'q4_k_m',
  16: 'q5_k_s',
  17: 'q5_k_m',
  18: 'q6_k',
  19: 'iq2_xxs',
  20: 'iq2_xs',
  21: 'q2_k_s',
  22: 'iq3_xs',
  23: 'iq3_xxs',
  24: 'iq1_s',
  25: 'iq4_nl',
  26: 'iq3_s',
  27: 'iq3_m',
  28: 'iq2_s',
  29: 'iq2_m',
  30: 'iq4_xs',
  31: 'iq1_m',
  32: 'bf16',
  36: 'tq1_0',
  37: 'tq2_0',
  38: 'mxfp4_moe',
};

export function ggufFileTypeName(fileType: number): string | undefined {
  return FILE_TYPES[fileType];
}

/** Unquantized GGUF file types are precisions, not quantizations. */
export function ggufPrecision(fileType: string | undefined): string | undefined {
  return { f32: 'float32', f16: 'float16', bf16: 'bfloat16' }[fileType ?? ''];
}

/** GGUF metadata value types. */
const ValueType = {
  U8: 0,
  I8: 1,
  U16: 2,
  I16: 3,
  U32: 4,
  I32: 5,
  F32: 6,
  Bool: 7,
  String: 8,
  Array: 9,
  U64: 10,
  I64: 11,
  F64: 12,
} as const;
type ValueType = number;

const FIXED_SIZE: Record<number, number> = {
  [ValueType.U8]: 1,
  [ValueType.I8]: 1,
  [ValueType.Bool]: 1,
  [ValueType.U16]: 2,
  [ValueType.I16]: 2,
  [ValueType.U32]: 4,
  [ValueType.I32]: 4,
  [ValueType.F32]: 4,
  [ValueType.U64]: 8,
  [ValueType.I64]: 8,
  [ValueType.F64]: 8,
};

/** Reads a file front to back through a window, refilled as the parser asks for bytes. */
class Cursor {
  #buffer = Buffer.alloc(0);
  #start = 0; // file offset of #buffer[0]
  #position = 0; // file offset of the next byte to parse

  constructor(
    readonly handle: FileHandle,
    readonly size: number,
    readonly file: string,
  ) {}

  async #ensure(length: number): Promise<number> {
    if (this.#position + length > this.size)
      throw invalid(this.file, 'the header runs past the end of the file');
    if (this.#position + length > GGUF_HEADER_LIMIT) {
      throw invalid(this.file, `the header is larger than ${GGUF_HEADER_LIMIT} bytes`);
    }
    const offset = this.#position - this.#start;
    if (offset + length <= this.#buffer.byteLength) return offset;
    const want = Math.min(Math.max(length, 1024 * 1024), this.size - this.#position);
    const buffer = Buffer.alloc(want);
    const { bytesRead } = await this.handle.read(buffer, 0, want, this.#position);
    if (bytesRead < length) throw invalid(this.file, 'the header is cut short');
    this.#buffer = buffer.subarray(0, bytesRead);
    this.#start = this.#position;
    return 0;
  }

  async bytes(length: number): Promise<Buffer> {
    const offset = await this.#ensure(length);
    this.#position += length;
    return this.#buffer.subarray(offset, offset + length);
  }

  async skip(length: number): Promise<void> {
    if (this.#position + length > Math.min(this.size, GGUF_HEADER_LIMIT))
      await this.#ensure(length);
    this.#position += length;
  }

  async u32(): Promise<number> {
    return (await this.bytes(4)).readUInt32LE(0);
  }

  async u64(): Promise<number> {
    const value = (await this.bytes(8)).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw invalid(this.file, `a count of ${value} is too large`);
    return Number(value);
  }

  async string(): Promise<string> {
    const length = await this.u64();
    return (await this.bytes(length)).toString('utf8');
  }
}

function invalid(file: string, problem: string): FerryError {
  return new FerryError(
    ModelErrorCode.InvalidHeader,
    `${quote(file)} is not a valid GGUF file: ${problem}`,
  );
}

async function readScalar(cursor: Cursor, type: ValueType): Promise<string | number | boolean> {
  switch (type) {
    case ValueType.U8:
      return (await cursor.bytes(1)).readUInt8(0);
    case ValueType.I8:
      return (await cursor.bytes(1)).readInt8(0);
    case ValueType.U16:
      return (await cursor.bytes(2)).readUInt16LE(0);
    case ValueType.I16:
      return (await cursor.bytes(2)).readInt16LE(0);
    case ValueType.U32:
      return (await cursor.bytes(4)).readUInt32LE(0);
    case ValueType.I32:
      return (await cursor.bytes(4)).readInt32LE(0);
    case ValueType.F32:
      return (await cursor.bytes(4)).readFloatLE(0);
    case ValueType.Bool:
      return (await cursor.bytes(1)).readUInt8(0) !== 0;
    case ValueType.String:
      return cursor.string();
    case ValueType.U64:
      return Number((await cursor.bytes(8)).readBigUInt64LE(0));
    case ValueType.I64:
      return Number((await cursor.bytes(8)).readBigInt64LE(0));
    case ValueType.F64:
      return (await cursor.bytes(8)).readDoubleLE(0);
    default:
      throw invalid(cursor.file, `unknown metadata value type ${String(type)}`);
  }
}

/** Skips an array value (tokenizer vocabularies have hundreds of thousands of entries). */
async function skipArray(cursor: Cursor, depth = 0): Promise<void> {
  if (depth > 4) throw invalid(cursor.file, 'arrays nested too deeply');
  const type = (await cursor.u32()) as ValueType;
  const count = await cursor.u64();
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return cursor.skip(fixed * count);
  for (let i = 0; i < count; i++) {
    if (type === ValueType.String) await cursor.skip(await cursor.u64());
    else if (type === ValueType.Array) await skipArray(cursor, depth + 1);
    else throw invalid(cursor.file, `unknown array element type ${String(type)}`);
  }
}

/** Reads the header of the GGUF file at `path`; errors name it as `name`, else as `path`. */
export async function readGgufHeader(path: string, name: string = path): Promise<GgufHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const cursor = new Cursor(handle, size, name);
    if ((await cursor.bytes(4)).toString('latin1') !== 'GGUF') throw invalid(name, 'no GGUF magic');
    const version = await cursor.u32();
    if (version !== 2 && version !== 3) {
      throw invalid(name, `version ${version} is not supported (2 and 3 are)`);
    }
    const tensorCount = await cursor.u64();
    const kvCount = await cursor.u64();
    const metadata: Record<string, string | number | boolean> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = await cursor.string();
      const type = (await cursor.u32()) as ValueType;
      if (type === ValueType.Array) await skipArray(cursor);
      else metadata[key] = await readScalar(cursor, type);
    }
    let parameterCount = 0;
    for (let i = 0; i < tensorCount; i++) {
      await cursor.skip(await cursor.u64()); // name
      const dimensions = await cursor.u32();
      if (dimensions > 8) throw invalid(name, `a tensor with ${dimensions} dimensions`);
      let elements = 1;
      for (let d = 0; d < dimensions; d++) elements *= await cursor.u64();
      await cursor.skip(4 + 8); // type, offset
      parameterCount += elements;
    }
    const text = (key: string) =>
      typeof metadata[key] === 'string' ? (metadata[key] as string) : undefined;
    const fileType = metadata['general.file_type'];
    return {
      version,
      tensorCount,
      metadata,
      architecture: text('general.architecture'),
      name: text('general.name'),
      fileType: typeof fileType === 'number' ? ggufFileTypeName(fileType) : undefined,
      parameterCount,
    };
  } finally {
    await handle.close();
  }
}
