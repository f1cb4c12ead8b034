// Model files for the `ferry model` e2e tests: safetensors with real headers, a Hugging Face-shaped
// directory, and reproducible tars made by the system tar (as KitOps and modctl write layers).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './cli.js';

export function safetensors(tensors: { name: string; dtype: string; shape: number[] }[]): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(offset);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  return Buffer.concat([length, json, data]);
}

/** Sharded safetensors + index, config.json, tokenizer files, README, LICENSE, a .py, a .git/. */
export async function hfDirectory(root: string): Promise<void> {
  await mkdir(join(root, '.git'), { recursive: true });
  await writeFile(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  await writeFile(
    join(root, 'model-00001-of-00002.safetensors'),
    safetensors([{ name: 'embed', dtype: 'BF16', shape: [1024, 512] }]),
  );
  await writeFile(
    join(root, 'model-00002-of-00002.safetensors'),
    safetensors([
      { name: 'lm_head', dtype: 'BF16', shape: [1024, 512] },
      { name: 'norm', dtype: 'F32', shape: [512] },
    ]),
  );
  await writeFile(
    join(root, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: { total_size: 2 * 1024 * 512 * 2 + 2048 },
      weight_map: {
        embed: 'model-00001-of-00002.safetensors',
        lm_head: 'model-00002-of-00002.safetensors',
        norm: 'model-00002-of-00002.safetensors',
      },
    }),
  );
  await writeFile(
    join(root, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'bfloat16',
    }),
  );
  await writeFile(join(root, 'generation_config.json'), '{"max_length":64}');
  await writeFile(join(root, 'tokenizer.json'), '{"version":"1.0","model":{"type":"BPE"}}');
  await writeFile(join(root, 'tokenizer_config.json'), '{"bos_token":"<s>"}');
  await writeFile(join(root, 'special_tokens_map.json'), '{"eos_token":"</s>"}');
  await writeFile(join(root, 'README.md'), '# tiny llama\n');
  await writeFile(join(root, 'LICENSE'), 'Apache License 2.0\n');
  await writeFile(join(root, 'modeling_tiny.py'), 'import torch\n');
}

/** A tar (optionally gzipped) of `paths` under `cwd`, reproducible, made by the system tar. */
export async function tarOf(
  cwd: string,
  paths: string[],
  gzip = false,
  absoluteNames = false,
): Promise<Buffer> {
  const file = join(cwd, `.layer-${Math.random().toString(16).slice(2)}.tar`);
  const result = await runCommand(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=1000',
      '--group=0',
      '--numeric-owner',
      ...(absoluteNames ? ['-P'] : []),
      gzip ? '-czf' : '-cf',
      file,
      ...paths,
    ],
    { cwd },
  );
  if (result.code !== 0) throw new Error(result.stderr);
  return readFile(file);
}
