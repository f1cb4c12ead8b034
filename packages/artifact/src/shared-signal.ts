/**
 * A signal that many operations in flight at once listen to (every blob of a push). Each request
 * adds an abort listener and removes it when it ends, so their number is bounded by the
 * concurrency, not a leak — but past 10 Node prints a MaxListenersExceededWarning on the user's
 * terminal. The limit is lifted for this signal only.
 */
import { setMaxListeners } from 'node:events';

/** `controller`'s signal, aborted also when `outer` is; shared by any number of listeners. */
export function sharedSignal(controller: AbortController, outer?: AbortSignal): AbortSignal {
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  setMaxListeners(0, signal);
  return signal;
}
