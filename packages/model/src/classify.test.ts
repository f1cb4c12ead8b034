import { describe, expect, it } from 'vitest';
import { classifyFiles, kindByTable, pathMatcher } from './classify.js';

describe('kindByTable', () => {
  it.each([
    ['model-00001-of-00002.safetensors', 'weights'],
    ['sub/model.gguf', 'weights'],
    ['pytorch_model.bin', 'weights'],
    ['model.pt', 'weights'],
    ['ckpt/model.pth', 'weights'],
    ['onnx/model.onnx', 'weights'],
    ['onnx/model.onnx_data', 'weights'],
    ['tf_model.h5', 'weights'],
    ['flax_model.msgpack', 'weights'],
    ['model.tflite', 'weights'],
    ['last.ckpt', 'weights'],
    ['config.json', 'config'],
    ['generation_config.json', 'config'],
    ['model.safetensors.index.json', 'config'],
    ['tokenizer.json', 'config'],
    ['tokenizer_config.json', 'config'],
    ['tokenizer.model', 'config'],
    ['special_tokens_map.json', 'config'],
    ['vocab.txt', 'config'],
    ['merges.txt', 'config'],
    ['chat_template.jinja', 'config'],
    ['README.md', 'docs'],
    ['LICENSE', 'docs'],
    ['License.txt', 'docs'],
    ['docs/usage.md', 'docs'],
    ['NOTICE', 'docs'],
    ['modeling_llama.py', 'code'],
    ['requirements.txt', 'code'],
    ['train.ipynb', 'code'],
    ['data/train.jsonl', 'datasets'],
    ['data/eval.parquet', 'datasets'],
    ['data/test.csv', 'datasets'],
  ])('%s is %s', (path, kind) => {
    expect(kindByTable(path)).toBe(kind);
  });

  it('claims no unknown extension', () => {
    expect(kindByTable('weights.xyz')).toBeUndefined();
    expect(kindByTable('Makefile.local')).toBeUndefined();
  });
});

describe('classifyFiles', () => {
  it('lets an override win over the table, and claim files the table does not', () => {
    const classified = classifyFiles(['notes.txt', 'extra/a.xyz', 'model.safetensors'], {
      weights: ['*.xyz'],
      code: ['notes.txt'],
    });
    expect(classified).toEqual([
      { path: 'notes.txt', kind: 'code' },
      { path: 'extra/a.xyz', kind: 'weights' },
      { path: 'model.safetensors', kind: 'weights' },
    ]);
  });

  it('matches a glob with a slash against the whole path, and ** across directories', () => {
    const matches = pathMatcher(['data/**/*.bin']);
    expect(matches('data/a/b/x.bin')).toBe(true);
    expect(matches('data/x.bin')).toBe(true);
    expect(matches('other/x.bin')).toBe(false);
    expect(classifyFiles(['data/x.bin'], { datasets: ['data/**'] })).toEqual([
      { path: 'data/x.bin', kind: 'datasets' },
    ]);
  });

  it('refuses files no rule claims, naming each and the flags to use', () => {
    expect(() => classifyFiles(['model.safetensors', 'weird.xyz', 'b/other.abc'])).toThrowError(
      expect.objectContaining({
        code: 'ERR_MODEL_UNCLASSIFIED',
        message: expect.stringMatching(
          /"weird\.xyz", "b\/other\.abc".*--weights, --config, --doc, --code or --dataset <glob>.*--doc "\*\.xyz"/,
        ),
      }),
    );
  });
});
