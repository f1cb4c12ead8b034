import { describe, expect, it } from 'vitest';
import { terminalSafe } from './bottle-shared.js';

describe('terminalSafe', () => {
  it('shows control characters from a registry as escapes, keeping text and newlines', () => {
    expect(terminalSafe('404 \u001b[31mNAME_UNKNOWN\u001b[0m\u0007 café\n')).toBe(
      '404 \\u001b[31mNAME_UNKNOWN\\u001b[0m\\u0007 café\n',
    );
    expect(terminalSafe('\u009b2J\r')).toBe('\\u009b2J\\u000d');
  });
});
