// Secrets against registry:2 with htpasswd (Basic) auth: --debug redaction, -p warnings,
// config.json permissions and atomic writes, failed logins.
import { describe } from 'vitest';
import { secretsTests } from './support/hostile-secrets.js';

describe('secrets (basic auth)', () => secretsTests('basic'));
