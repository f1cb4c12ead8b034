/** ORAS's --descriptor (print the descriptor instead of the content) and --pretty. */
import { type ArgsOf, optionGroup } from './group.js';

export function descriptorOption(describe: string) {
  return optionGroup({ descriptor: { type: 'boolean', describe } });
}
export type DescriptorArgs = ArgsOf<ReturnType<typeof descriptorOption>>;

export function prettyOption(describe: string) {
  return optionGroup({ pretty: { type: 'boolean', describe } });
}
export type PrettyArgs = ArgsOf<ReturnType<typeof prettyOption>>;

/** -f/--force: delete without asking. */
export const forceOption = optionGroup({
  force: { alias: 'f', type: 'boolean', describe: 'Do not ask for confirmation' },
});
export type ForceArgs = ArgsOf<typeof forceOption>;
