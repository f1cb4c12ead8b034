/**
 * The digest of a file, read through one buffer that is reused for every read: a read stream
 * hands out a new buffer per read, which for a 1 GiB file is 1,024 allocations that glibc keeps
 * as heap once freed (a warm-cache pull of 1 GiB peaked at 107 MiB hashing its copy that way).
 */
import { open } from 'node:fs/promises';
import { Digester, type Digest } from '@ferry/oci';

const PIECE = 1024 * 1024;

/** sha256 (or `algorithm`) and size of the file at `path`, read to its end. */
export async function digestFileReusing(
  path: string,
  signal?: AbortSignal,
  size?: number,
  algorithm: Digester['algorithm'] = 'sha256',
): Promise<{ digest: Digest; size: number }> {
  signal?.throwIfAborted();
  const handle = await open(path, 'r');
  try {
    const digester = new Digester(algorithm);
    // No more than a small file needs; at least 64 KiB, so that a wrong hint costs little.
    const hint = size !== undefined && Number.isFinite(size) ? size : PIECE;
    const buffer = Buffer.allocUnsafe(Math.min(PIECE, Math.max(64 * 1024, hint)));
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, total);
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      digester.update(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    return { digest: digester.digest(), size: total };
  } finally {
    await handle.close();
  }
}
