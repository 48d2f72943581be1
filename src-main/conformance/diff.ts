/** A small line diff (LCS) for printing transcript differences readably. */

export function diffLines(a: string[], b: string[], labels: [string, string] = ['expected', 'actual'], context = 3): string {
  // Trim the common prefix and suffix first; transcripts mostly differ in a few places.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const ops = lcsOps(x, y);

  type Row = { tag: ' ' | '-' | '+'; text: string };
  const rows: Row[] = [];
  for (let i = Math.max(0, start - context); i < start; i++) rows.push({ tag: ' ', text: a[i]! });
  rows.push(...ops);
  for (let i = endA; i < Math.min(a.length, endA + context); i++) rows.push({ tag: ' ', text: a[i]! });

  // Collapse long runs of unchanged lines inside the middle part.
  const out: string[] = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  if (start - context > 0) out.push(`  … ${start - context} equal lines`);
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.tag !== ' ') {
      out.push(`${rows[i]!.tag} ${rows[i]!.text}`);
      i++;
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j]!.tag === ' ') j++;
    const run = j - i;
    if (run > 2 * context + 1 && i > 0 && j < rows.length) {
      for (let k = i; k < i + context; k++) out.push(`  ${rows[k]!.text}`);
      out.push(`  … ${run - 2 * context} equal lines`);
      for (let k = j - context; k < j; k++) out.push(`  ${rows[k]!.text}`);
    } else {
      for (let k = i; k < j; k++) out.push(`  ${rows[k]!.text}`);
    }
    i = j;
  }
  const tail = a.length - Math.min(a.length, endA + context);
  if (tail > 0) out.push(`  … ${tail} equal lines`);
  return out.join('\n');
}

function lcsOps(x: string[], y: string[]): Array<{ tag: ' ' | '-' | '+'; text: string }> {
  const n = x.length;
  const m = y.length;
  if (n * m > 4_000_000) {
    // Too big for a table: show everything as replaced.
    return [...x.map((t) => ({ tag: '-' as const, text: t })), ...y.map((t) => ({ tag: '+' as const, text: t }))];
  }
  const table: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) table.push(new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = x[i] === y[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const ops: Array<{ tag: ' ' | '-' | '+'; text: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      ops.push({ tag: ' ', text: x[i]! });
      i++;
      j++;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) ops.push({ tag: '-', text: x[i++]! });
    else ops.push({ tag: '+', text: y[j++]! });
  }
  while (i < n) ops.push({ tag: '-', text: x[i++]! });
  while (j < m) ops.push({ tag: '+', text: y[j++]! });
  return ops;
}
