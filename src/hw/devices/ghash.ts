/**
 * The iteration order of a GLib GHashTable keyed by strings (g_str_hash).
 *
 * QOM keeps an object's children in such a table, and commands that walk
 * children (`info memdev` walks /objects) print them in the table's slot
 * order. To print the same order as QEMU we keep the same slots: open
 * addressing over a power-of-two table, first probe (hash * 11) mod a prime,
 * quadratic probing, tombstones on removal, and GLib's grow/shrink rule.
 */

const MIN_SHIFT = 3;
// GLib's prime_mod table: the largest prime below 2^shift.
const PRIME_MOD = [
  1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139, 524287,
  1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689, 268435399, 536870909,
  1073741789, 2147483647,
];

const UNUSED = 0;
const TOMBSTONE = 1;

/** g_str_hash: the djb2 hash over the bytes, 32-bit. */
export function gStrHash(key: string): number {
  let h = 5381;
  for (const byte of new TextEncoder().encode(key)) {
    // GLib reads the bytes as signed char.
    const c = byte >= 0x80 ? byte - 0x100 : byte;
    h = (Math.imul(h, 33) + c) >>> 0;
  }
  return h;
}

export class GHashTable<V> {
  private shift = MIN_SHIFT;
  private size = 1 << MIN_SHIFT;
  private hashes = new Uint32Array(this.size);
  private keys: (string | undefined)[] = new Array<string | undefined>(this.size);
  private vals: (V | undefined)[] = new Array<V | undefined>(this.size);
  private nnodes = 0;
  private noccupied = 0;

  get count(): number {
    return this.nnodes;
  }

  get(key: string): V | undefined {
    const i = this.lookup(key).index;
    return this.hashes[i]! >= 2 ? this.vals[i] : undefined;
  }

  has(key: string): boolean {
    return this.hashes[this.lookup(key).index]! >= 2;
  }

  /** g_hash_table_insert: replaces the value of an existing key in place. */
  set(key: string, value: V): void {
    const { index, hash } = this.lookup(key);
    const old = this.hashes[index]!;
    if (old >= 2) {
      this.vals[index] = value;
      return;
    }
    this.hashes[index] = hash;
    this.keys[index] = key;
    this.vals[index] = value;
    this.nnodes++;
    if (old === UNUSED) {
      this.noccupied++;
      this.maybeResize();
    }
  }

  delete(key: string): boolean {
    const { index } = this.lookup(key);
    if (this.hashes[index]! < 2) return false;
    this.hashes[index] = TOMBSTONE;
    this.keys[index] = undefined;
    this.vals[index] = undefined;
    this.nnodes--;
    this.maybeResize();
    return true;
  }

  /** Entries in slot order, as g_hash_table_iter_next returns them. */
  *entries(): IterableIterator<[string, V]> {
    for (let i = 0; i < this.size; i++) {
      if (this.hashes[i]! >= 2) yield [this.keys[i]!, this.vals[i]!];
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  private mod(): number {
    return PRIME_MOD[this.shift]!;
  }

  private lookup(key: string): { index: number; hash: number } {
    let hash = gStrHash(key);
    if (hash < 2) hash = 2; // 0 and 1 mark unused and deleted slots
    const mask = this.size - 1;
    let index = (Math.imul(hash, 11) >>> 0) % this.mod();
    let step = 0;
    let tombstone = -1;
    while (this.hashes[index] !== UNUSED) {
      if (this.hashes[index] === hash && this.keys[index] === key) return { index, hash };
      if (this.hashes[index] === TOMBSTONE && tombstone < 0) tombstone = index;
      step++;
      index = (index + step) & mask;
    }
    return { index: tombstone >= 0 ? tombstone : index, hash };
  }

  private maybeResize(): void {
    const occ = this.noccupied;
    if (
      (this.size > this.nnodes * 4 && this.size > 1 << MIN_SHIFT) ||
      this.size <= occ + Math.floor(occ / 16)
    ) {
      this.resize();
    }
  }

  private resize(): void {
    // GLib sizes the new table from nnodes * 1.333 and rehashes in place:
    // walking the old slots, each entry not yet placed is moved to its first
    // probe slot not yet claimed in this pass, evicting whatever unplaced
    // entry sat there (which is placed next). Final slots depend on that.
    let n = Math.floor(this.nnodes * 1.333);
    let shift = 0;
    while (n) {
      n >>= 1;
      shift++;
    }
    shift = Math.max(shift, MIN_SHIFT);
    const oldSize = this.size;
    const newSize = 1 << shift;
    const span = Math.max(oldSize, newSize);
    const hashes = new Uint32Array(span);
    hashes.set(this.hashes);
    const keys = this.keys.slice();
    const vals = this.vals.slice();
    keys.length = span;
    vals.length = span;
    this.shift = shift;
    this.size = newSize;
    const mask = newSize - 1;
    const mod = this.mod();
    const placed = new Uint8Array(span);
    for (let i = 0; i < oldSize; i++) {
      let nodeHash = hashes[i]!;
      if (nodeHash < 2) {
        hashes[i] = UNUSED;
        continue;
      }
      if (placed[i]) continue;
      hashes[i] = UNUSED;
      let key = keys[i];
      let val = vals[i];
      keys[i] = undefined;
      vals[i] = undefined;
      for (;;) {
        let at = (Math.imul(nodeHash, 11) >>> 0) % mod;
        let step = 0;
        while (placed[at]) {
          step++;
          at = (at + step) & mask;
        }
        placed[at] = 1;
        const replaced = hashes[at]!;
        const rKey = keys[at];
        const rVal = vals[at];
        hashes[at] = nodeHash;
        keys[at] = key;
        vals[at] = val;
        if (replaced < 2) break;
        nodeHash = replaced;
        key = rKey;
        val = rVal;
      }
    }
    this.hashes = hashes.slice(0, newSize);
    this.keys = keys.slice(0, newSize);
    this.vals = vals.slice(0, newSize);
    this.noccupied = this.nnodes;
  }
}
