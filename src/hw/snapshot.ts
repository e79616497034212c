/**
 * In-place snapshots of an object graph: every object reachable from the
 * roots (own enumerable properties, Map and Set entries, array elements,
 * typed-array contents) is recorded, and `restore` writes the recorded values
 * back into the same objects, so every reference into the graph (closures, the
 * file tree, device listeners) stays valid. Objects created after the snapshot
 * simply fall out of the graph again.
 *
 * Two escape hatches keep it cheap and safe:
 * - an object with `[SAVE_STATE]`/`[RESTORE_STATE]` saves itself and is not
 *   looked into (physical memory journals its frames copy-on-write, the
 *   kernel log is append-only);
 * - an object whose `[STATELESS]` is true (a view over other state, a shared
 *   constant) is kept by reference and never looked into or written;
 *   functions and frozen objects are treated the same way.
 *
 * Restore writes a slot only when its value differs, so objects that did not
 * change are only read.
 */

/** Method an object implements to save its own state (instead of being walked). */
export const SAVE_STATE: unique symbol = Symbol('saveState');
/** Method an object implements to put back what `[SAVE_STATE]` returned (many times). */
export const RESTORE_STATE: unique symbol = Symbol('restoreState');
/** A property that, when true, says the object holds no state of its own. */
export const STATELESS: unique symbol = Symbol('stateless');

export interface SavesOwnState<S = unknown> {
  /** `walk` records an object the state refers to (its own contents then are the walker's job). */
  [SAVE_STATE](walk: (child: unknown) => void): S;
  [RESTORE_STATE](state: S): void;
}

const enum Kind {
  Skip,
  Plain,
  Array,
  Map,
  Set,
  Typed,
  Own,
}

type Slots = Record<string | symbol, unknown>;
type TypedArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array;

function isTyped(o: object): o is TypedArray {
  return ArrayBuffer.isView(o) && !(o instanceof DataView);
}

/**
 * How objects of a class are recorded, by constructor: an own-state method,
 * STATELESS and the container kinds are properties of the class, so one
 * lookup per object replaces a chain of instanceof and symbol probes.
 */
const kindByClass = new Map<unknown, Kind>();

function kindOf(o: object): Kind {
  const ctor = (o as { constructor?: unknown }).constructor;
  let kind = kindByClass.get(ctor);
  if (kind === undefined) {
    kind = classify(o);
    // Plain objects and null-prototype ones may carry STATELESS themselves: not cached.
    if (ctor !== Object && ctor !== undefined) kindByClass.set(ctor, kind);
  }
  return kind;
}

function classify(o: object): Kind {
  const own = o as Partial<SavesOwnState> & { [STATELESS]?: boolean };
  if (own[STATELESS] === true) return Kind.Skip;
  if (typeof own[SAVE_STATE] === 'function') return Kind.Own;
  if (Array.isArray(o)) return Kind.Array;
  if (o instanceof Map) return Kind.Map;
  if (o instanceof Set) return Kind.Set;
  if (isTyped(o)) return Kind.Typed;
  return Kind.Plain;
}

/** The recorded state of every object reachable from the roots, restorable any number of times. */
export class GraphSnapshot {
  /** The objects, their kinds, and per object: keys (plain objects) and the saved values. */
  private readonly objs: object[] = [];
  private readonly kinds: Kind[] = [];
  private readonly keys: Array<string[] | undefined> = [];
  private readonly vals: unknown[] = [];

  constructor(roots: readonly object[]) {
    const seen = new Set<object>();
    const stack: unknown[] = [...roots];
    const push = (v: unknown): void => {
      if (typeof v === 'object' && v !== null && !seen.has(v)) stack.push(v);
    };
    while (stack.length) {
      const o = stack.pop() as object;
      if (seen.has(o)) continue;
      seen.add(o);
      switch (kindOf(o)) {
        case Kind.Skip:
          break;
        case Kind.Own:
          this.add(o, Kind.Own, undefined, (o as SavesOwnState)[SAVE_STATE](push));
          break;
        case Kind.Array: {
          const copy = (o as unknown[]).slice();
          this.add(o, Kind.Array, undefined, copy);
          for (const v of copy) push(v);
          break;
        }
        case Kind.Map: {
          const flat: unknown[] = [];
          (o as Map<unknown, unknown>).forEach((v, k) => {
            flat.push(k, v);
            push(k);
            push(v);
          });
          this.add(o, Kind.Map, undefined, flat);
          break;
        }
        case Kind.Set: {
          const copy = [...(o as Set<unknown>)];
          this.add(o, Kind.Set, undefined, copy);
          for (const v of copy) push(v);
          break;
        }
        case Kind.Typed:
          this.add(o, Kind.Typed, undefined, (o as TypedArray).slice());
          break;
        case Kind.Plain: {
          if (Object.isFrozen(o)) break;
          const keys = Object.keys(o);
          const values = new Array<unknown>(keys.length);
          for (let i = 0; i < keys.length; i++) {
            const v = (o as Slots)[keys[i]!];
            values[i] = v;
            push(v);
          }
          this.add(o, Kind.Plain, keys, values);
          break;
        }
      }
    }
  }

  /** Objects recorded (for the docs' numbers and tests). */
  get objectCount(): number {
    return this.objs.length;
  }

  /** Slots recorded: properties, elements, entries (typed arrays and self-saving objects count 1). */
  get slotCount(): number {
    let n = 0;
    for (let i = 0; i < this.objs.length; i++) {
      const k = this.kinds[i]!;
      n += k === Kind.Plain || k === Kind.Array || k === Kind.Set ? (this.vals[i] as unknown[]).length : 1;
      if (k === Kind.Map) n += (this.vals[i] as unknown[]).length / 2 - 1;
    }
    return n;
  }

  private add(o: object, kind: Kind, keys: string[] | undefined, vals: unknown): void {
    this.objs.push(o);
    this.kinds.push(kind);
    this.keys.push(keys);
    this.vals.push(vals);
  }

  /** Puts every recorded object back as it was when the snapshot was taken. */
  restore(): void {
    const { objs, kinds, keys, vals } = this;
    for (let i = 0; i < objs.length; i++) {
      const o = objs[i]!;
      switch (kinds[i]!) {
        case Kind.Plain:
          restorePlain(o as Slots, keys[i]!, vals[i] as unknown[]);
          break;
        case Kind.Array:
          restoreArray(o as unknown[], vals[i] as unknown[]);
          break;
        case Kind.Map:
          restoreMap(o as Map<unknown, unknown>, vals[i] as unknown[]);
          break;
        case Kind.Set:
          restoreSet(o as Set<unknown>, vals[i] as unknown[]);
          break;
        case Kind.Typed:
          (o as TypedArray).set(vals[i] as never);
          break;
        case Kind.Own:
          (o as SavesOwnState)[RESTORE_STATE](vals[i]);
          break;
      }
    }
  }
}

function restorePlain(o: Slots, keys: string[], values: unknown[]): void {
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j]!;
    const v = values[j];
    if (o[key] !== v || (v === undefined && !Object.prototype.hasOwnProperty.call(o, key))) o[key] = v;
  }
  // A property added since the snapshot goes again.
  const now = Object.keys(o);
  if (now.length !== keys.length) {
    const had = new Set(keys);
    for (const key of now) if (!had.has(key)) delete o[key];
  }
}

function restoreArray(o: unknown[], values: unknown[]): void {
  if (o.length !== values.length) o.length = values.length;
  for (let j = 0; j < values.length; j++) if (o[j] !== values[j]) o[j] = values[j];
}

/**
 * Maps and sets keep insertion order, which callers can see: the entries up to the first
 * difference stay, the rest are deleted and added again in the snapshot's order. An operation
 * that only added entries costs their deletion; nothing is reallocated.
 */
function restoreMap(o: Map<unknown, unknown>, flat: unknown[]): void {
  let j = 0;
  const tail: unknown[] = [];
  for (const [k, v] of o) {
    if (tail.length === 0 && j < flat.length && k === flat[j] && v === flat[j + 1]) j += 2;
    else tail.push(k);
  }
  if (tail.length === 0 && j === flat.length) return;
  for (const k of tail) o.delete(k);
  for (; j < flat.length; j += 2) o.set(flat[j], flat[j + 1]);
}

function restoreSet(o: Set<unknown>, values: unknown[]): void {
  let j = 0;
  const tail: unknown[] = [];
  for (const v of o) {
    if (tail.length === 0 && j < values.length && v === values[j]) j++;
    else tail.push(v);
  }
  if (tail.length === 0 && j === values.length) return;
  for (const v of tail) o.delete(v);
  for (; j < values.length; j++) o.add(values[j]);
}
