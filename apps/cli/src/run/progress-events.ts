import type { CopyEvent } from '@ferry/artifact';
import type { Context } from '../context.js';
import { describe, printStatus } from '../output.js';
import type { Progress } from '../progress.js';

/** Turns copy events into status lines (text mode) and progress bars (terminal). */
export function reportCopyEvents(
  context: Context,
  progress: Progress,
  verbs: { start: string; done: string },
) {
  return (event: CopyEvent): void => {
    const name = describe(event.descriptor);
    switch (event.type) {
      case 'start':
        progress.start(event.descriptor, verbs.start);
        break;
      case 'progress':
        progress.advance(event.descriptor, event.bytes);
        break;
      case 'copied':
        progress.finish(event.descriptor);
        printStatus(context, verbs.done, name, event.descriptor.digest);
        break;
      case 'exists':
        printStatus(context, 'Exists', name, event.descriptor.digest);
        break;
      case 'mounted':
        printStatus(context, 'Mounted', name, event.descriptor.digest);
        break;
    }
  };
}
