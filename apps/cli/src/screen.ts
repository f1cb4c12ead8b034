/**
 * Who draws at the bottom of the terminal right now. Progress bars own the last lines of the
 * screen while they are shown; every other line printed meanwhile (status lines on stdout,
 * warnings on stderr) goes through {@link printAboveBars}, so that the bars are erased first and
 * drawn again below it. Printed around them instead, a line would be drawn over by the next bar
 * and a stale bar would stay behind.
 */
export interface BottomLines {
  /** Erases what it drew, calls `write(text)`, and draws again below. */
  above(write: (text: string) => void, text: string): void;
}

let active: BottomLines | undefined;

export function setBottomLines(lines: BottomLines | undefined): void {
  active = lines;
}

export function bottomLines(): BottomLines | undefined {
  return active;
}

/** Prints `text` with `write` (stdout or stderr), above any progress bars being shown. */
export function printAboveBars(write: (text: string) => void, text: string): void {
  if (active) active.above(write, text);
  else write(text);
}
