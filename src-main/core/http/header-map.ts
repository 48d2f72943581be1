/**
 * An ordered multimap with the iteration order of Rust's `http::HeaderMap`, which decides the order
 * in which the reference sends request headers and reports response headers:
 *
 * - entries are kept per (lower-case) name, in order of the name's first insertion; every value of a
 *   name is yielded together at that name's position (`a:1, b:2, a:3` iterates as `a:1, a:3, b:2`);
 * - `insert` replaces all values of an existing name in place (the position does not change);
 * - `remove` is a swap-remove: the last entry moves into the removed entry's position
 *   (`[a, b, c, d]` minus `b` is `[a, d, c]`). hyper and the reference's redirect code remove headers
 *   this way, so a removal reorders what follows on the wire.
 *
 * Names are stored lower-case (callers validate them); values are stored as given.
 */

interface Entry {
  name: string;
  values: string[];
}

export class HeaderMap {
  private entries: Entry[] = [];

  /** Builds a map by appending each pair in order (duplicates are kept, grouped by name). */
  static from(pairs: Iterable<readonly [string, string]>): HeaderMap {
    const map = new HeaderMap();
    for (const [name, value] of pairs) map.append(name, value);
    return map;
  }

  private find(name: string): number {
    const key = name.toLowerCase();
    return this.entries.findIndex((e) => e.name === key);
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  /** The first value of `name`, if any. */
  get(name: string): string | undefined {
    const i = this.find(name);
    return i < 0 ? undefined : this.entries[i]!.values[0];
  }

  getAll(name: string): string[] {
    const i = this.find(name);
    return i < 0 ? [] : [...this.entries[i]!.values];
  }

  /** Adds a value; a new name goes to the end, a known name gets one more value at its position. */
  append(name: string, value: string): void {
    const i = this.find(name);
    if (i >= 0) this.entries[i]!.values.push(value);
    else this.entries.push({ name: name.toLowerCase(), values: [value] });
  }

  /** Sets the only value of `name`: in place when the name exists, else appended. */
  insert(name: string, value: string): void {
    const i = this.find(name);
    if (i >= 0) this.entries[i]!.values = [value];
    else this.entries.push({ name: name.toLowerCase(), values: [value] });
  }

  /** Replaces the last value of `name` (which must exist). */
  setLast(name: string, value: string): void {
    const i = this.find(name);
    if (i < 0) throw new Error(`no header ${name}`);
    const values = this.entries[i]!.values;
    values[values.length - 1] = value;
  }

  /** Swap-removes every value of `name`; returns whether it was present. */
  remove(name: string): boolean {
    const i = this.find(name);
    if (i < 0) return false;
    const last = this.entries.pop()!;
    if (i < this.entries.length) this.entries[i] = last;
    return true;
  }

  /**
   * reqwest's `RequestBuilder::headers(src)`: every name of `src` replaces this map's values for that
   * name (in place if present, else appended), keeping all of `src`'s values.
   */
  replaceFrom(src: HeaderMap): void {
    for (const entry of src.entries) {
      const [first, ...rest] = entry.values;
      this.insert(entry.name, first!);
      for (const value of rest) this.append(entry.name, value);
    }
  }

  clone(): HeaderMap {
    const copy = new HeaderMap();
    copy.entries = this.entries.map((e) => ({ name: e.name, values: [...e.values] }));
    return copy;
  }

  /** Every (name, value) pair in HeaderMap iteration order. */
  *pairs(): IterableIterator<[string, string]> {
    for (const entry of this.entries) for (const value of entry.values) yield [entry.name, value];
  }

  get size(): number {
    return this.entries.length;
  }
}
