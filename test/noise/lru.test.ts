/** The LRU cache of the Brownian paths: recency order, capacity and the eviction callback. */
import { LruCache } from '../../src/noise/lru';

describe('LruCache', () => {
  it('evicts the least recently used entry (a get counts as a use) and reports it', () => {
    const evicted: string[] = [];
    const cache = new LruCache<string, number>(2, (v, k) => evicted.push(`${k}=${v}`));
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(evicted).toEqual(['b=2']);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
    cache.set('a', 4); // replacing a key is not an eviction
    expect(evicted).toEqual(['b=2']);
    expect(cache.get('a')).toBe(4);
  });
});
