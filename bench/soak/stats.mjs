// Small numeric helpers of the soak: Prometheus text sums and a least-squares slope.

/** Sum of every sample of `name` (all label sets) in a Prometheus text exposition; undefined when absent. */
export function metric(text, name) {
  let sum;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isNaN(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** Least-squares slope of y over x, and how much of y's variance the line explains (r²). */
export function regression(points) {
  const n = points.length;
  if (n < 3) return { slope: 0, r2: 0 };
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const { x, y } of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  const slope = sxx ? sxy / sxx : 0;
  return { slope, r2: sxx && syy ? (sxy * sxy) / (sxx * syy) : 0 };
}
