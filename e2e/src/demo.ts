/**
 * `npm run demo`: start a throwaway registry:2 on loopback, push a small "model" (a directory and
 * a file, with annotations and an artifact type) with the ferry CLI, list its tags, attach an
 * SBOM, pull the model into a new directory, and compare every byte; then publish a tiny model as
 * CNCF ModelPack with `ferry model`, inspect it and pull it back (all of it, then the weights only).
 * The registry and the work directory are gone when the demo ends, whether it succeeds or not.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { digestStream } from '@ferry/oci';
import { startRegistry } from './harness/index.js';
import { ferry, runCommand } from './support/cli.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Runs ferry, echoing the command and its output; throws on a non-zero exit. */
async function run(args: string[], cwd?: string): Promise<string> {
  say(`\n$ ferry ${args.join(' ')}`);
  const result = await ferry(args, cwd ? { cwd } : {});
  if (result.stdout) process.stdout.write(`${result.stdout.trimEnd().replace(/^/gm, '  ')}\n`);
  if (result.code !== 0)
    throw new Error(`ferry ${args[0]} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

async function files(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(relative(root, path), (await digestStream(createReadStream(path))).digest);
  }
  return found;
}

/** A bottle tarball as `brew bottle` lays it out: `<name>/<version>/…` with its receipt. */
async function makeBottle(
  dir: string,
  name: string,
  version: string,
  tag: string,
  dependencies: { full_name: string; version: string }[],
): Promise<string> {
  const keg = join(dir, 'build', tag, name, version);
  await mkdir(join(keg, 'bin'), { recursive: true });
  await writeFile(join(keg, 'bin', name), `#!/bin/sh\necho "${name} ${version} (${tag})"\n`, {
    mode: 0o755,
  });
  const arch = tag.startsWith('arm64') ? 'arm64' : 'x86_64';
  const os = tag.endsWith('_linux')
    ? { os: 'Linux', os_version: 'Ubuntu 22.04' }
    : { os: 'Macintosh', os_version: 'macOS 14' };
  const tab = {
    homebrew_version: '4.4.0',
    changed_files: [],
    source_modified_time: 1700000000,
    compiler: 'clang',
    runtime_dependencies: dependencies.map((d) => ({
      ...d,
      revision: 0,
      pkg_version: d.version,
      declared_directly: true,
    })),
    arch,
    built_on: os,
  };
  await writeFile(join(keg, 'INSTALL_RECEIPT.json'), JSON.stringify(tab));
  const file = join(dir, `${name}--${version}.${tag}.bottle.tar.gz`);
  // Fixed mtimes and owners, as reproducible bottles have them.
  await runCommand('tar', [
    '--sort=name',
    '--mtime=@1700000000',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-czf',
    file,
    '-C',
    join(dir, 'build', tag),
    name,
  ]);
  return file;
}

/** Publishes two bottles of a made-up formula and its dependency, then pulls one tag with deps. */
async function bottleDemo(host: string, work: string): Promise<void> {
  const bottles = join(work, 'bottles');
  await mkdir(bottles);
  const tarballs: string[] = [];
  for (const tag of ['arm64_sonoma', 'x86_64_linux']) {
    tarballs.push(await makeBottle(bottles, 'libgreet', '2.1', tag, []));
    tarballs.push(
      await makeBottle(bottles, 'hello-ferry', '1.0', tag, [
        { full_name: 'libgreet', version: '2.1' },
      ]),
    );
  }
  const where = ['--registry', host, '--namespace', 'demo/tap'];
  await run(['bottle', 'push', ...tarballs.map((f) => relative(bottles, f)), ...where], bottles);
  await run(['bottle', 'info', 'hello-ferry', ...where]);
  const cellar = join(work, 'Cellar');
  const pulled = await run([
    'bottle',
    'pull',
    'hello-ferry',
    '--tag',
    'arm64_sequoia',
    '--with-deps',
    '-o',
    join(work, 'downloads'),
    '--extract',
    cellar,
    ...where,
  ]);
  if (
    !/hello-ferry--1\.0\.arm64_sonoma\.bottle\.tar\.gz/.test(pulled) ||
    !/libgreet--2\.1\.arm64_sonoma/.test(pulled)
  ) {
    throw new Error(
      'the arm64_sequoia host did not get the arm64_sonoma bottles of hello-ferry and libgreet',
    );
  }
  say(
    `\nHomebrew's choice for an arm64_sequoia Mac: the arm64_sonoma bottles, with the dependency:`,
  );
  for (const [path] of await files(cellar)) say(`  Cellar/${path}`);
}

/** A tiny Hugging Face-shaped model as CNCF ModelPack: push, inspect, pull the weights only. */
async function modelDemo(host: string, work: string): Promise<void> {
  const dir = join(work, 'tiny-llama');
  await mkdir(dir);
  // A real safetensors header (8-byte length + JSON), then the tensor's bytes.
  const header = Buffer.from(
    JSON.stringify({
      'embed.weight': { dtype: 'BF16', shape: [512, 1024], data_offsets: [0, 1048576] },
    }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  await writeFile(
    join(dir, 'model.safetensors'),
    Buffer.concat([length, header, randomBytes(1048576)]),
  );
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'bfloat16',
    }),
  );
  await writeFile(
    join(dir, 'tokenizer.json'),
    JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 } } }),
  );
  await writeFile(join(dir, 'README.md'), '# tiny-llama\n\nA demo model.\n');
  await writeFile(join(dir, 'LICENSE'), 'Apache License 2.0\n');
  const ref = `${host}/demo/tiny-llama`;
  await run(['model', 'push', `${ref}:v1`, dir, '--license', 'Apache-2.0', '--name', 'tiny-llama']);
  await run(['model', 'inspect', `${ref}:v1`]);
  const full = join(work, 'model-full');
  await run(['model', 'pull', `${ref}:v1`, '-o', full]);
  const [before, after] = await Promise.all([files(dir), files(full)]);
  for (const [path, digest] of before) {
    if (after.get(path) !== digest)
      throw new Error(`model file ${path} differs after the round trip`);
  }
  const weights = join(work, 'model-weights');
  await run(['model', 'pull', `${ref}:v1`, '-o', weights, '--only', 'weights']);
  const pulled = [...(await files(weights)).keys()];
  if (pulled.join() !== 'model.safetensors')
    throw new Error(`--only weights pulled ${pulled.join(', ')}`);
  say(
    `\nModel round trip verified: ${before.size} files as CNCF ModelPack; --only weights pulled ${pulled.join(', ')}`,
  );
}

async function main(): Promise<void> {
  say('Starting a throwaway registry:2 on loopback…');
  const registry = await startRegistry({
    mode: 'anonymous',
    // The harness's own steps, not the registry's access log (it logs every 404 HEAD as an error).
    log: (line) => void (line.startsWith('[registry]') || process.stderr.write(`  ${line}\n`)),
  });
  const work = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
  try {
    say(`Registry up at ${registry.url} (pid ${registry.pid})`);
    const model = join(work, 'tiny-model');
    await mkdir(join(model, 'tokenizer'), { recursive: true });
    await writeFile(join(model, 'weights.safetensors'), randomBytes(3 * 1024 * 1024));
    await writeFile(join(model, 'tokenizer', 'vocab.json'), JSON.stringify({ hello: 0, world: 1 }));
    await writeFile(join(model, 'tokenizer', 'merges.txt'), 'h e\nl l\n');
    await writeFile(
      join(work, 'sbom.spdx.json'),
      JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'tiny-model' }),
    );
    const ref = `${registry.host}/demo/tiny-model`;

    await run(
      [
        'push',
        `${ref}:v1,latest`,
        'weights.safetensors:application/vnd.example.weights',
        'tokenizer',
        '--artifact-type',
        'application/vnd.example.model.v1',
        '-a',
        'org.opencontainers.image.description=a tiny demo model',
        '-a',
        'org.opencontainers.image.licenses=MIT',
      ],
      model,
    );
    await run(['repo', 'tags', ref]);
    await run(
      ['attach', `${ref}:v1`, 'sbom.spdx.json', '--artifact-type', 'application/spdx+json'],
      work,
    );
    await run(['discover', `${ref}:v1`]);
    const pulled = join(work, 'pulled');
    await run(['pull', `${ref}:v1`, '-o', pulled]);

    const [before, after] = await Promise.all([files(model), files(pulled)]);
    for (const [path, digest] of before) {
      if (after.get(path) !== digest) throw new Error(`${path} differs after the round trip`);
    }
    if (after.size !== before.size)
      throw new Error(`pulled ${after.size} files, pushed ${before.size}`);
    say(`\nRound trip verified: ${before.size} files, byte for byte:`);
    for (const [path, digest] of before) say(`  ${digest}  ${path}`);

    await modelDemo(registry.host, work);
    await bottleDemo(registry.host, work);
  } finally {
    await rm(work, { recursive: true, force: true });
    await registry.stop();
    say('Registry stopped and its storage removed.');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
