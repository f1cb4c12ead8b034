/**
 * Hashing a large file on a worker thread while its upload streams from the main thread. With
 * both on the main thread (see EagerUploads), every upload chunk and every hash chunk take turns
 * on one event loop, and the hash of 1 GiB ran at the upload's pace: a push of a blob the registry
 * already held only learned so when the upload was nearly done (issue 17). On its own thread the
 * hash runs at full speed, so the HEAD that stops the upload comes after a fraction of the bytes.
 */
import { Worker } from 'node:worker_threads';
import { FerryError, quote, type Digest, ErrorCode } from '@ferry/oci';
import type { FileHasher } from './digest-cache.js';
import { ArtifactErrorCode } from './errors.js';

/** Below this, a worker's start-up (tens of ms) costs more than it saves. */
export const WORKER_HASH_MIN_SIZE = 16 * 1024 * 1024;

/**
 * The worker: sha256 of 4 MiB pieces, the next piece read (on the thread pool) while this one is
 * hashed, so that the copy out of the page cache overlaps the hash (1 GiB: 0.68 against 0.76 s
 * with blocking reads taking turns with the hash); one message at the end.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { open } = require('node:fs/promises');
const { createHash } = require('node:crypto');
(async () => {
  const handle = await open(workerData.path, 'r');
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(4 * 1024 * 1024), Buffer.allocUnsafe(4 * 1024 * 1024)];
    let size = 0;
    let turn = 0;
    let reading = handle.read(buffers[0], 0, buffers[0].length, 0);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const piece = buffers[turn];
      size += bytesRead;
      turn ^= 1;
      reading = handle.read(buffers[turn], 0, buffers[turn].length, size);
      hash.update(piece.subarray(0, bytesRead));
    }
    parentPort.postMessage({ digest: 'sha256:' + hash.digest('hex'), size });
  } finally {
    await handle.close();
  }
})().catch((error) => {
  parentPort.postMessage({ error: { message: error.message, code: error.code } });
});
`;

interface WorkerAnswer {
  digest?: Digest;
  size?: number;
  error?: { message: string; code?: string };
}

/** sha256 of a file, computed on a worker thread. */
export function digestFileOnWorker(
  path: string,
  signal?: AbortSignal,
): Promise<{ digest: Digest; size: number }> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path } });
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      action();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(signal?.reason as Error));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (answer: WorkerAnswer) =>
      finish(() => {
        if (answer.digest !== undefined && answer.size !== undefined)
          return resolve({ digest: answer.digest, size: answer.size });
        const code =
          answer.error?.code === 'ENOENT' ? ErrorCode.FileNotFound : ArtifactErrorCode.FileRead;
        reject(
          new FerryError(code, `${quote(path)}: ${answer.error?.message ?? 'could not be read'}`),
        );
      }),
    );
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (exitCode) =>
      finish(() =>
        reject(
          new FerryError(
            ArtifactErrorCode.FileRead,
            `${quote(path)}: the hashing thread exited ${exitCode}`,
          ),
        ),
      ),
    );
  });
}

/**
 * `inner` for small files, a worker thread for large ones: for the hasher of files whose upload
 * starts while they are hashed.
 */
export function offThreadHasher(inner: FileHasher, minSize = WORKER_HASH_MIN_SIZE): FileHasher {
  return (path, signal, size) =>
    size !== undefined && size >= minSize
      ? digestFileOnWorker(path, signal)
      : inner(path, signal, size);
}
