import type { Table } from './scenario';

/** Formats a table with aligned columns: text left, numbers (cells starting with a digit) right. */
export function formatTable(table: Table): string {
  const all = [table.headers, ...table.rows];
  const widths = table.headers.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return /^[\d.]/.test(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(table.headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}
