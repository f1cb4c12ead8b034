/**
 * `npm run demo`: start a throwaway registry:2 on loopback, push a small "model" file as an OCI
 * 1.1 artifact with annotations, pull it back by tag, and check every byte. The registry and its
 * storage are gone when the demo ends, whether it succeeds or not.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  Annotation,
  computeDigest,
  digestStream,
  EmptyJson,
  EMPTY_JSON_BYTES,
  MediaType,
  parseReference,
  type ImageManifest,
} from '@ferry/oci';
import { Registry } from '@ferry/registry';
import { startRegistry } from './harness/index.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

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
    const reference = parseReference(`${registry.host}/demo/tiny-model:v1`);

    const modelPath = join(work, 'model.safetensors');
    await writeFile(modelPath, randomBytes(2 * 1024 * 1024));
    const { digest, size } = await digestStream(createReadStream(modelPath));
    say(`Made ${modelPath} (${size} bytes, ${digest})`);

    const client = new Registry(reference.registry);
    const repository = client.repository(reference.repository);
    const pushed = await repository.blobs.push(() => createReadStream(modelPath), { digest, size });
    say(`Blob ${pushed.outcome}: ${pushed.digest}`);
    await repository.blobs.push(EMPTY_JSON_BYTES, {
      digest: EmptyJson.digest,
      size: EmptyJson.size,
    });

    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: 'application/vnd.example.model.v1',
      config: EmptyJson,
      layers: [
        {
          mediaType: 'application/vnd.example.model.weights',
          digest,
          size,
          annotations: { [Annotation.Title]: 'model.safetensors' },
        },
      ],
      annotations: { [Annotation.Description]: 'a tiny demo model', 'com.example.license': 'MIT' },
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = await repository.manifests.push(
      reference.tag ?? 'latest',
      manifestBytes,
      MediaType.OciManifest,
    );
    say(`Pushed ${reference}`);
    say(`Digest: ${descriptor.digest}`);

    const fetched = await repository.manifests.fetch(reference.tag ?? 'latest');
    if (fetched.parsed.kind !== 'manifest') throw new Error('expected an image manifest');
    const layer = fetched.parsed.manifest.layers[0];
    if (!layer) throw new Error('the manifest lost its layer');
    const pulledPath = join(work, 'pulled', layer.annotations?.[Annotation.Title] ?? 'blob');
    await mkdir(join(work, 'pulled'));
    await pipeline(repository.blobs.fetch(layer), createWriteStream(pulledPath));
    const pulled = await digestStream(createReadStream(pulledPath));
    say(`Pulled ${reference} → ${pulledPath} (${(await stat(pulledPath)).size} bytes)`);
    say(`Annotations: ${JSON.stringify(fetched.parsed.manifest.annotations)}`);

    if (pulled.digest !== digest || computeDigest(fetched.bytes) !== descriptor.digest) {
      throw new Error(`round trip changed the content: ${pulled.digest} ≠ ${digest}`);
    }
    say(`Round trip verified: ${pulled.digest}`);
    say(`Tags in ${reference.repository}: ${(await repository.tags()).join(', ')}`);
    await client.close();
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
