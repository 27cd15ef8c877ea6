/**
 * Quota vector: `cores`, `instances`, `ram` and any extra resource. A missing key
 * takes the vector's `fallback` (0 for usage, Infinity for limits).
 */
export class QuotaInformation {
  constructor(
    readonly values: Record<string, number> = {},
    readonly fallback = 0,
  ) {}

  /** Limits with nothing set: every resource unlimited. */
  static unlimited(): QuotaInformation {
    return new QuotaInformation({}, Infinity);
  }

  /** Value of one resource, or the fallback. */
  get(key: string): number {
    return key in this.values ? this.values[key] : this.fallback;
  }

  private combine(other: QuotaInformation, sign: 1 | -1): QuotaInformation {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(this.values), ...Object.keys(other.values)])) {
      out[key] = this.get(key) + sign * other.get(key);
    }
    return new QuotaInformation(out, this.fallback + sign * other.fallback || this.fallback);
  }

  /** Key-wise sum (each side extended by its own fallback first, as Nodepool does). */
  add(other: QuotaInformation): QuotaInformation {
    return this.combine(other, 1);
  }

  /** Key-wise difference. */
  subtract(other: QuotaInformation): QuotaInformation {
    return this.combine(other, -1);
  }

  /** True when no resource is below zero. */
  nonNegative(): boolean {
    return Object.values(this.values).every((v) => v >= 0);
  }

  /** The `resources` dict stored on a node. */
  toResources(): Record<string, number> {
    return { ...this.values };
  }
}
