// Pulls go through ferry's download cache; the e2e run gets a fresh one of its own, so that no
// test is served from a blob an earlier test (or run, or the user) cached, and nothing is left
// in the home directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const cache = mkdtempSync(join(tmpdir(), 'ferry-e2e-cache-'));
  process.env.FERRY_CACHE = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
