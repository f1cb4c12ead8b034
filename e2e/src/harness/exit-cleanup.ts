/**
 * Last-resort cleanup for registries a test never stopped (a crash, a timeout, a forgotten
 * afterAll). Only synchronous work is possible here: the process is on its way out.
 *
 * process 'exit' alone is not enough: vitest ends its fork workers with SIGTERM, which skips 'exit'
 * handlers entirely, so the signals that normally end a test run are covered too.
 */

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

interface State {
  pending: (() => void)[];
  onSignal?: (signal: NodeJS.Signals) => void;
}

// On globalThis because vitest re-imports modules for every test file in a worker; a module-level
// list would install one set of handlers per file.
const KEY = Symbol.for('ferry.e2e.harness.exitCleanup');
const state: State = ((globalThis as { [KEY]?: State })[KEY] ??= { pending: [] });

function runAll(): void {
  // Last registered first: processes die before the directories they write into are removed.
  for (const fn of state.pending.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // Best effort: nothing can be reported from here.
    }
  }
}

function install(): void {
  process.once('exit', runAll);
  const onSignal = (signal: NodeJS.Signals) => {
    runAll();
    uninstall();
    // Re-raise so the process still ends the way the sender meant, unless someone else has taken
    // responsibility for this signal.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  state.onSignal = onSignal;
}

function uninstall(): void {
  process.off('exit', runAll);
  if (state.onSignal) for (const s of SIGNALS) process.off(s, state.onSignal);
  state.onSignal = undefined;
}

/**
 * Registers `fn` to run if the process ends before the returned function is called. Handlers are
 * only installed while something is registered, so signal handling is untouched otherwise.
 */
export function registerExitCleanup(fn: () => void): () => void {
  if (state.pending.length === 0 && !state.onSignal) install();
  state.pending.push(fn);
  return () => {
    const i = state.pending.indexOf(fn);
    if (i >= 0) state.pending.splice(i, 1);
    if (state.pending.length === 0) uninstall();
  };
}
