/** Writes rows as space-aligned columns under a header, to stdout. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
}

/** A `list` command's output on stdout: the records as JSON (`--json`, for scripts), else a table of `columns`. */
export function printList<T>(records: T[], json: boolean, columns: Record<string, (record: T) => string>): void {
  if (json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  else printTable(Object.keys(columns), records.map((r) => Object.values(columns).map((cell) => cell(r))));
}
