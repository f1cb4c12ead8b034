import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeGguf } from './fixtures.test.helpers.js';
import { ggufPrecision, readGgufHeader } from './gguf.js';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-gguf-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const tokens = Array.from({ length: 5000 }, (_, i) => `token-${i}`);

describe('readGgufHeader', () => {
  it.each([2, 3])(
    'reads v%d metadata, skipping arrays, and counts tensor elements',
    async (version) => {
      const file = join(dir, 'model.gguf');
      await writeFile(
        file,
        makeGguf({
          version,
          metadata: [
            ['general.architecture', { type: 'string', value: 'llama' }],
            ['general.name', { type: 'string', value: 'Tiny Llama' }],
            ['tokenizer.ggml.tokens', { type: 'strings', value: tokens }],
            ['tokenizer.ggml.token_type', { type: 'i32s', value: [1, 2, 3] }],
            ['llama.context_length', { type: 'u32', value: 2048 }],
            ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
            ['general.file_type', { type: 'u32', value: 15 }],
          ],
          tensors: [
            { name: 'token_embd.weight', dims: [64, 100] },
            { name: 'blk.0.attn_q.weight', dims: [64, 64] },
            { name: 'output_norm.weight', dims: [64] },
          ],
        }),
      );
      const header = await readGgufHeader(file);
      expect(header).toMatchObject({
        version,
        tensorCount: 3,
        architecture: 'llama',
        name: 'Tiny Llama',
        fileType: 'q4_k_m',
        parameterCount: 64 * 100 + 64 * 64 + 64,
      });
      expect(header.metadata['llama.context_length']).toBe(2048);
      expect(header.metadata['tokenizer.ggml.tokens']).toBeUndefined();
    },
  );

  it('names unquantized file types as precisions', () => {
    expect(ggufPrecision('f16')).toBe('float16');
    expect(ggufPrecision('bf16')).toBe('bfloat16');
    expect(ggufPrecision('q8_0')).toBeUndefined();
  });

  it('refuses a file without the magic, an unknown version, and a header cut short', async () => {
    const file = join(dir, 'x.gguf');
    await writeFile(file, Buffer.from('NOPE0000'));
    await expect(readGgufHeader(file)).rejects.toMatchObject({
      code: 'ERR_MODEL_HEADER',
      message: expect.stringMatching(/no GGUF magic/),
    });
    const v1 = makeGguf({ version: 1, metadata: [], tensors: [] });
    await writeFile(file, v1);
    await expect(readGgufHeader(file)).rejects.toMatchObject({
      message: expect.stringMatching(/version 1 is not supported/),
    });
    const full = makeGguf({
      metadata: [['general.name', { type: 'string', value: 'x'.repeat(100) }]],
      tensors: [],
    });
    await writeFile(file, full.subarray(0, 40));
    await expect(readGgufHeader(file)).rejects.toMatchObject({
      message: expect.stringMatching(/past the end|cut short/),
    });
  });
});
