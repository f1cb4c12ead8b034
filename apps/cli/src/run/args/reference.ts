/** Arguments several commands take as they are: a reference, and a reference with a file. */
import { positionalGroup } from '../../options/group.js';

export const referenceArgument = positionalGroup({
  reference: { type: 'string', demandOption: true },
});

export const referenceAndFileArguments = positionalGroup({
  reference: { type: 'string', demandOption: true },
  file: { type: 'string', demandOption: true },
});
