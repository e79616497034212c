/**
 * The lock calls of mm/memory_hotplug.c, drivers/base/core.c and
 * kernel/fork.c's init_mm, each a scheduling point when the concurrency
 * explorer runs the kernel. Without a scheduler they only record the holder.
 */
import type { Kernel } from '../kernel.js';
import type { KernelLock, LockMode } from './lock.js';

/** The CPU a normal (unscheduled) run executes on. */
const BOOT_CPU = 'cpu0';

export function lockAcquire(k: Kernel, lock: KernelLock, mode: LockMode): void {
  if (k.sched) k.sched.acquire(lock, mode);
  else lock.take(BOOT_CPU, mode);
}

export function lockRelease(k: Kernel, lock: KernelLock, mode: LockMode): void {
  if (k.sched) k.sched.release(lock, mode);
  else lock.drop(BOOT_CPU, mode);
}

/** mem_hotplug_begin(): hot(un)plug excludes every get_online_mems() reader. */
export function memHotplugBegin(k: Kernel): void {
  lockAcquire(k, k.locks.memHotplug, 'write');
}

export function memHotplugDone(k: Kernel): void {
  lockRelease(k, k.locks.memHotplug, 'write');
}

/** get_online_mems(): keeps memory from being added or removed while a reader walks it. */
export function getOnlineMems(k: Kernel): void {
  lockAcquire(k, k.locks.memHotplug, 'read');
}

export function putOnlineMems(k: Kernel): void {
  lockRelease(k, k.locks.memHotplug, 'read');
}

export function lockDeviceHotplug(k: Kernel): void {
  lockAcquire(k, k.locks.deviceHotplug, 'write');
}

export function unlockDeviceHotplug(k: Kernel): void {
  lockRelease(k, k.locks.deviceHotplug, 'write');
}

/** Runs `body` between mem_hotplug_begin() and mem_hotplug_done(), whatever it returns. */
export function withMemHotplug<T>(k: Kernel, body: () => T): T {
  memHotplugBegin(k);
  try {
    return body();
  } finally {
    memHotplugDone(k);
  }
}

/** Runs `body` under lock_device_hotplug(). */
export function withDeviceHotplug<T>(k: Kernel, body: () => T): T {
  lockDeviceHotplug(k);
  try {
    return body();
  } finally {
    unlockDeviceHotplug(k);
  }
}
