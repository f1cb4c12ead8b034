// Every ferry command, as the built binary, against registry:2 with bearer-token auth: the file
// logs in once with `ferry login --password-stdin` and passes --registry-config to every command.
import { authTests } from './support/cli-fixture-auth.js';
import { describeCliCommands } from './support/cli-fixture-suite.js';

describeCliCommands('token', authTests);
