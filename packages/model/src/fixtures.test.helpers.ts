/** Small model files made by the tests: safetensors and GGUF with real headers and tiny data. */

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

const DTYPE_BYTES: Record<string, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I8: 1,
  U8: 1,
  I32: 4,
  F64: 8,
};

/** A safetensors file: the 8-byte length, the JSON header, then zeroed tensor data. */
export function makeSafetensors(tensors: TensorSpec[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const bytes = tensor.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[tensor.dtype] ?? 1);
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([length, json, Buffer.alloc(offset)]);
}

type GgufValue =
  | { type: 'string'; value: string }
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'strings'; value: string[] }
  | { type: 'i32s'; value: number[] };

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);

function value(v: GgufValue): Buffer {
  switch (v.type) {
    case 'string':
      return Buffer.concat([u32(8), str(v.value)]);
    case 'u32':
      return Buffer.concat([u32(4), u32(v.value)]);
    case 'f32': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v.value);
      return Buffer.concat([u32(6), b]);
    }
    case 'bool':
      return Buffer.concat([u32(7), Buffer.from([v.value ? 1 : 0])]);
    case 'strings':
      return Buffer.concat([u32(9), u32(8), u64(v.value.length), ...v.value.map(str)]);
    case 'i32s':
      return Buffer.concat([
        u32(9),
        u32(5),
        u64(v.value.length),
        ...v.value.map((n) => {
          const b = Buffer.alloc(4);
          b.writeInt32LE(n);
          return b;
        }),
      ]);
  }
}

/** A GGUF file (v2 or v3): header, metadata, tensor infos, then a little zeroed data. */
export function makeGguf(options: {
  version?: number;
  metadata: [string, GgufValue][];
  tensors: { name: string; dims: number[]; type?: number }[];
}): Buffer {
  const parts: Buffer[] = [
    Buffer.from('GGUF'),
    u32(options.version ?? 3),
    u64(options.tensors.length),
    u64(options.metadata.length),
  ];
  for (const [key, v] of options.metadata) parts.push(str(key), value(v));
  let offset = 0;
  for (const tensor of options.tensors) {
    parts.push(
      str(tensor.name),
      u32(tensor.dims.length),
      ...tensor.dims.map(u64),
      u32(tensor.type ?? 0),
      u64(offset),
    );
    offset += 32;
  }
  parts.push(Buffer.alloc(offset + 32));
  return Buffer.concat(parts);
}
