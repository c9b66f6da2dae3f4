/** A bounded least-recently-used map, for the node values of the Brownian paths. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  /** `onEvict` receives each entry pushed out by `set` (for example to reuse its buffers). */
  constructor(
    readonly capacity: number,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {}

  /** The value of `key`, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Stores `v` as the most recently used entry, evicting the least recently used ones beyond the capacity. */
  set(key: K, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.capacity) {
      const [oldKey, oldValue] = this.map.entries().next().value as [K, V];
      this.map.delete(oldKey);
      this.onEvict?.(oldValue, oldKey);
    }
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }
}
