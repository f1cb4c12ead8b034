/** `ferry login` and `ferry logout`: the registry, and the type of everything they parse. */
import type { FormatArgs } from '../../options/format.js';
import { type ArgsOf, positionalGroup } from '../../options/group.js';
import type { RemoteArgs } from '../../options/remote.js';

export const registryArgument = positionalGroup({
  registry: { type: 'string', demandOption: true },
});

export type LoginArgs = RemoteArgs & FormatArgs & ArgsOf<typeof registryArgument>;
