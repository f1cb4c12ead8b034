// Secrets against registry:2 with token auth, through a proxy that records every token issued:
// --debug redaction, -p warnings, config.json permissions and atomic writes, failed logins.
import { describe } from 'vitest';
import { secretsTests } from './support/hostile-secrets.js';

describe('secrets (token auth)', () => secretsTests('token'));
