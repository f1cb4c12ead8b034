/**
 * The one place text meets the terminal. Registries choose titles, annotations, platform fields,
 * tags, repository names and error messages; any of them may hold control sequences (ESC [ 2 J
 * clears the screen, OSC 0 sets the window title, OSC 8 makes links, C1 CSI does the same in one
 * byte on some terminals). Everything ferry prints as text passes through `escapeTerminal`.
 */

/**
 * C0 controls except tab and newline (which lay out ferry's own lines), DEL, and the C1 range.
 * Carriage return is escaped too: it would let a name overwrite the start of its own line.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Replaces each control character with its `\u00XX` spelling: visible, unambiguous, and the same
 * escape JSON uses, so a JSON document stays valid and means the same after it.
 */
export function escapeTerminal(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * One line of output, whatever it holds: as escapeTerminal, and a newline in it is spelt out too,
 * so that a tag or a title cannot print a line of its own that looks like ferry's.
 */
export function oneLine(text: string): string {
  return escapeTerminal(text).replace(/\n/g, '\\u000a');
}
