import { createHash } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
async function pullDurable([url, out]) {
  const every = Number(process.env.SYNC_EVERY ?? 0) * 1024 * 1024;
  let written = 0, syncing = null, t0 = performance.now();
  // As ferry does (bin/ferry.js): llhttp compiled once, by Liftoff only.
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
  const agent = new Agent();
  const response = await request(url, { dispatcher: agent, highWaterMark: 1024 * 1024 });
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
  const hash = createHash('sha256');
  const temp = `${out}.partial`;
  const handle = await open(temp, 'wx');
  let position = 0;
  let pending = [];
  let pendingBytes = 0;
  let writing = null;
  const flush = () => {
    const batch = pending;
    const at = position;
    position += pendingBytes;
    pending = [];
    pendingBytes = 0;
    writing = handle.writev(batch, at).then(() => { writing = null; written += batch.reduce((n, b) => n + b.byteLength, 0); if (every && !syncing && written >= every) { written = 0; syncing = handle.datasync().then(() => (syncing = null)); } });
    return writing;
  };
  for await (const chunk of response.body) {
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= 4 * 1024 * 1024) {
      if (writing) await writing;
      void flush();
    }
  }
  if (writing) await writing;
  if (pendingBytes > 0) await flush();
  const tEnd = performance.now();
  if (syncing) await syncing;
  const tS = performance.now();
  await handle.sync();
  process.stderr.write(`recv ${((tEnd-t0)/1000).toFixed(2)} final ${((performance.now()-tS)/1000).toFixed(2)} `);
  await handle.close();
  await rename(temp, out);
  await syncDirectory(join(out, '..'));
  process.stdout.write(`sha256:${hash.digest('hex')}\n`);
  await agent.close();
}

async function syncDirectory(dir) {
  const handle = await open(dir, 'r');
  await handle.sync();
  await handle.close();
}
await pullDurable(process.argv.slice(2));
