/**
 * `discover --format table`, ORAS's layout: a summary, the subject's digest, then one row per
 * direct referrer under the columns "Artifact Type" and "Digest".
 */
import type { Descriptor } from '@ferry/oci';

/** Control characters from a registry never reach the terminal: shown as \u escapes. */
function printable(text: string): string {
  let shown = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    shown +=
      code < 0x20 || (code >= 0x7f && code <= 0x9f)
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : c;
  }
  return shown;
}

export function referrersTable(
  reference: string,
  subject: Descriptor,
  referrers: Descriptor[],
): string[] {
  // ORAS says "0 artifact", and "artifacts" only from 2.
  const lines = [
    `Discovered ${referrers.length} artifact${referrers.length > 1 ? 's' : ''} referencing ${reference}`,
    `Digest: ${subject.digest}`,
  ];
  if (referrers.length === 0) return lines;
  const title = 'Artifact Type';
  const types = referrers.map((r) => printable(r.artifactType ?? ''));
  const width = Math.max(title.length, ...types.map((t) => t.length));
  const row = (left: string, right: string) =>
    `${left}${' '.repeat(width - left.length + 3)}${right}`;
  lines.push('', row(title, 'Digest'));
  referrers.forEach((r, i) => lines.push(row(types[i] ?? '', r.digest)));
  return lines;
}
