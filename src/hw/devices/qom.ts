/**
 * The slice of QOM (QEMU's object model) the memory devices need: typed
 * properties whose setters pull their value from a visitor, so each setter
 * decides *when* the value is parsed (QEMU checks "already realized" before
 * parsing some properties and after parsing others, and users see the
 * difference in the error text).
 *
 * Visitors are implemented by the monitor (string input for HMP qom-set,
 * keyval for -device/device_add, JSON for QMP); devices only consume them.
 */

import { QemuError } from './qemu-error.js';

export interface Visitor {
  /** A byte size ("size" properties). */
  size(name: string): bigint;
  uint64(name: string): bigint;
  uint32(name: string): number;
  uint16(name: string): number;
  uint8(name: string): number;
  int32(name: string): number;
  bool(name: string): boolean;
  str(name: string): string;
}

/** What qom-get returns: QEMU turns it into JSON. */
export type QomValue = bigint | number | boolean | string | null | readonly QomValue[];

export interface QomProperty {
  readonly type: string;
  /** Type name used in "is not writable" errors: an alias reports its target's type. */
  readonly ownerType?: string;
  get?(): QomValue;
  set?(v: Visitor): void;
}

export interface QomObject {
  readonly typeName: string;
  /** Canonical QOM path, e.g. /machine/peripheral/vm0 or /objects/vmem0. */
  readonly canonicalPath: string;
  property(name: string): QomProperty | undefined;
}

/** object_property_set(). */
export function objectPropertySet(obj: QomObject, name: string, v: Visitor): void {
  const prop = obj.property(name);
  if (!prop) throw new QemuError(`Property '${obj.typeName}.${name}' not found`);
  if (!prop.set) throw new QemuError(`Property '${prop.ownerType ?? obj.typeName}.${name}' is not writable`);
  prop.set(v);
}

/** object_property_get(). */
export function objectPropertyGet(obj: QomObject, name: string): QomValue {
  const prop = obj.property(name);
  if (!prop) throw new QemuError(`Property '${obj.typeName}.${name}' not found`);
  if (!prop.get) throw new QemuError(`Property '${prop.ownerType ?? obj.typeName}.${name}' is not readable`);
  return prop.get();
}

/**
 * qdev_prop_set_after_realize(): the error for setting a static device
 * property once the device is realized. A device without an id (like the
 * virtio-mem device inside virtio-mem-pci) is "anonymous".
 */
export function setAfterRealize(name: string, id: string | undefined, typeName: string): QemuError {
  return id === undefined
    ? new QemuError(
        `Attempt to set property '${name}' on anonymous device (type '${typeName}') after it was realized`,
      )
    : new QemuError(
        `Attempt to set property '${name}' on device '${id}' (type '${typeName}') after it was realized`,
      );
}

/**
 * A static qdev property (DEFINE_PROP_*): readable always, settable only
 * until the device is realized.
 */
export function staticProperty(
  dev: { readonly realized: boolean; readonly id: string | undefined; readonly typeName: string },
  name: string,
  type: string,
  get: () => QomValue,
  set: (v: Visitor) => void,
): QomProperty {
  return {
    type,
    get,
    set: (v: Visitor) => {
      if (dev.realized) throw setAfterRealize(name, dev.id, dev.typeName);
      set(v);
    },
  };
}

/** The QAPI types a static field is visited as, each a method of the visitor. */
export type StaticFieldType = 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'int32' | 'bool';

/** A static property backed by the device field of the same meaning: read as is, set through the visitor. */
export function staticField<
  D extends { readonly realized: boolean; readonly id: string | undefined; readonly typeName: string },
>(dev: D, name: string, type: StaticFieldType, field: keyof D & string): QomProperty {
  const fields = dev as unknown as Record<string, QomValue>;
  return staticProperty(
    dev,
    name,
    type,
    () => fields[field]!,
    (v) => {
      fields[field] = v[type](name);
    },
  );
}

/** Static fields by property name: the QAPI type and the device field behind each. */
export type StaticFieldTable = Readonly<Record<string, readonly [StaticFieldType, string]>>;

/** The static property `name` of `table`, or undefined when the table has no such name. */
export function staticFieldOf<
  D extends { readonly realized: boolean; readonly id: string | undefined; readonly typeName: string },
>(dev: D, name: string, table: StaticFieldTable): QomProperty | undefined {
  const f = Object.hasOwn(table, name) ? table[name] : undefined;
  return f ? staticField(dev, name, f[0], f[1] as keyof D & string) : undefined;
}

/**
 * A link property to a memory backend (memdev of pc-dimm and virtio-mem): the path resolves when
 * set, an empty path clears it, and like every link it is fixed once the device is realized.
 */
export function memdevLink<B extends { readonly canonicalPath: string }>(
  dev: {
    memdev: B | undefined;
    readonly realized: boolean;
    readonly id: string | undefined;
    readonly typeName: string;
  },
  name: string,
  resolve: (path: string) => B,
): QomProperty {
  return {
    type: 'link<memory-backend>',
    get: () => dev.memdev?.canonicalPath ?? '',
    set: (v: Visitor) => {
      const path = v.str(name);
      const target = path === '' ? undefined : resolve(path);
      if (dev.realized) throw setLinkAfterRealize(name, dev.id, dev.typeName);
      dev.memdev = target;
    },
  };
}

/** qdev_prop_allow_set_link_before_realize(); QEMU prints a missing id with %s, which glibc renders "(null)". */
export function setLinkAfterRealize(name: string, id: string | undefined, typeName: string): QemuError {
  return new QemuError(
    `Attempt to set link property '${name}' on device '${id ?? '(null)'}' (type '${typeName}') after it was realized`,
  );
}

/** A read-only property (QEMU registers it without a setter). */
export function readOnly(type: string, get: () => QomValue, ownerType?: string): QomProperty {
  return ownerType === undefined ? { type, get } : { type, get, ownerType };
}

/** An alias (object_property_add_alias): same property, errors name the target's type. */
export function alias(target: QomObject, name: string): QomProperty | undefined {
  const p = target.property(name);
  if (!p) return undefined;
  return { ...p, ownerType: p.ownerType ?? target.typeName };
}

/** id_wellformed(): letters, digits, '-', '.', '_', starting with a letter. */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

export const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n";
