/**
 * Go's text/tabwriter as docker's tables use it (minwidth 10, padding 3,
 * spaces, left-aligned): a cell is text ended by a tab; tab-ended cells of
 * consecutive lines form a column as wide as its widest cell plus the
 * padding (at least minwidth); the text after a line's last tab belongs to
 * no column. Widths count code points (docker's fork counts East Asian wide
 * characters as two; container names and IDs are ASCII).
 */

export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const DOCKER_TABLE: TabOptions = { minwidth: 10, padding: 3 };

const width = (s: string): number => [...s].length;

/** Aligns tab-separated text (lines split on "\n"). */
export function tabwrite(text: string, options: TabOptions = DOCKER_TABLE): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] ?? [];
      out.push(cells.map((c, j) => (j < widths.length && j < cells.length - 1 ? c + ' '.repeat(Math.max(0, (widths[j] ?? 0) - width(c))) : c)).join(''));
    }
  };

  // Go's format(): a column block is the run of lines that have a cell in that column.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let row = line0; row < line1; row++) {
      if (column >= (lines[row]?.length ?? 0) - 1) continue;
      writeLines(start, row);
      start = row;
      let w = options.minwidth;
      for (; row < line1; row++) {
        const cells = lines[row] ?? [];
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column] ?? '') + options.padding);
      }
      widths.push(w);
      format(start, row);
      widths.pop();
      start = row;
      row--;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}
