import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from './fixtures.test.helpers.js';
import { formatParamSize, precisionOf, readSafetensorsHeader } from './safetensors.js';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-st-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('readSafetensorsHeader', () => {
  it('counts every element of every tensor, per dtype, and keeps __metadata__', async () => {
    const file = join(dir, 'model.safetensors');
    await writeFile(
      file,
      makeSafetensors(
        [
          { name: 'embed.weight', dtype: 'BF16', shape: [32, 16] },
          { name: 'layer.0.weight', dtype: 'BF16', shape: [16, 16] },
          { name: 'norm.weight', dtype: 'F32', shape: [16] },
        ],
        { format: 'pt' },
      ),
    );
    const header = await readSafetensorsHeader(file);
    expect(header).toEqual({
      parameterCount: 32 * 16 + 16 * 16 + 16,
      dtypes: { BF16: 32 * 16 + 16 * 16, F32: 16 },
      metadata: { format: 'pt' },
      tensorCount: 3,
    });
    expect(precisionOf(header.dtypes)).toBe('bfloat16');
  });

  it('reads only the header of a large file', async () => {
    const file = join(dir, 'big.safetensors');
    await writeFile(file, makeSafetensors([{ name: 'w', dtype: 'F16', shape: [2, 3] }]));
    // 8 GiB, sparse: reading it whole would take far longer than the test's timeout.
    await truncate(file, 8 * 1024 ** 3);
    const started = Date.now();
    expect((await readSafetensorsHeader(file)).parameterCount).toBe(6);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a length past the end of the file, and a header that is not JSON', async () => {
    const file = join(dir, 'bad.safetensors');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(1000n);
    await writeFile(file, Buffer.concat([length, Buffer.from('{}')]));
    await expect(readSafetensorsHeader(file)).rejects.toMatchObject({
      code: 'ERR_MODEL_HEADER',
      message: expect.stringMatching(/bad\.safetensors.*larger than the file/),
    });
    length.writeBigUInt64LE(3n);
    await writeFile(file, Buffer.concat([length, Buffer.from('{x}')]));
    await expect(readSafetensorsHeader(file)).rejects.toMatchObject({
      message: expect.stringMatching(/not JSON/),
    });
  });
});

describe('formatParamSize', () => {
  it.each([
    [1_100_048_384, '1.1b'],
    [354_823_168, '355m'],
    [350_000_000, '350m'],
    [7_000_000_000, '7b'],
    [6_738_415_616, '6.7b'],
    [70_553_706_496, '71b'],
    [124_439_808, '124m'],
    [1_500, '1.5k'],
    [999, '999'],
  ])('%d → %s', (count, text) => {
    expect(formatParamSize(count)).toBe(text);
  });
});
