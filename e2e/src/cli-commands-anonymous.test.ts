// Every ferry command, as the built binary, against registry:2 without authentication.
import { describeCliCommands } from './support/cli-fixture-suite.js';

describeCliCommands('anonymous');
