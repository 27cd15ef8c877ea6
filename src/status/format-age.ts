/**
 * Nodepool's `age()`: time since `timestamp` (Unix s) as `DD:HH:MM:SS`, with Python's floor
 * `divmod` and `%02d` truncation (so clock skew gives e.g. `-1:23:59:59`, as Nodepool prints).
 */
export function formatAge(timestamp: number, nowSeconds: number = Date.now() / 1000): string {
  const divmod = (a: number, b: number): [number, number] => {
    const q = Math.floor(a / b);
    return [q, a - q * b];
  };
  const [m0, s] = divmod(nowSeconds - timestamp, 60);
  const [h0, m] = divmod(m0, 60);
  const [d, h] = divmod(h0, 24);
  const two = (n: number): string => {
    const t = Math.trunc(n);
    return t < 0 ? `-${String(-t).padStart(1, '0')}` : String(t).padStart(2, '0');
  };
  return `${two(d)}:${two(h)}:${two(m)}:${two(s)}`;
}
