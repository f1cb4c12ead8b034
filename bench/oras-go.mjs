// The oras-go peer: bench/oras-go-peer/main.go, built offline from Debian's
// golang-oras-oras-go-dev in GOPATH mode (no module download). Missing Go or the package is not an
// error: the bench says so and leaves the oras-go column empty.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'oras-go-peer', 'main.go');
const GOCODE = '/usr/share/gocode';

/** Builds the peer into `workDir`; its path, or a message saying why it could not be built. */
export function buildOrasGoPeer(workDir) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    return {
      message: 'Go is not installed (apt-get install -y golang-go golang-oras-oras-go-dev)',
    };
  }
  if (!existsSync(join(GOCODE, 'src/oras.land/oras-go/pkg/oras'))) {
    return { message: 'oras-go is not installed (apt-get install -y golang-oras-oras-go-dev)' };
  }
  const binary = resolve(workDir, 'oras-go-peer');
  const built = spawnSync('go', ['build', '-o', binary, SOURCE], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${resolve(workDir, 'gopath')}:${GOCODE}`,
      GOFLAGS: '',
    },
  });
  if (built.status !== 0) return { message: `oras-go peer did not build: ${built.stderr.trim()}` };
  return { binary };
}
