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

/** Runs `body` holding `lock` in `mode`, and releases it whatever `body` returns or throws. */
export function withLock<T>(k: Kernel, lock: KernelLock, mode: LockMode, body: () => T): T {
  lockAcquire(k, lock, mode);
  try {
    return body();
  } finally {
    lockRelease(k, lock, mode);
  }
}

/** Between mem_hotplug_begin() and mem_hotplug_done(): hot(un)plug excludes every get_online_mems() reader. */
export function withMemHotplug<T>(k: Kernel, body: () => T): T {
  return withLock(k, k.locks.memHotplug, 'write', body);
}

/** Between get_online_mems() and put_online_mems(): no memory is added or removed meanwhile. */
export function withOnlineMems<T>(k: Kernel, body: () => T): T {
  return withLock(k, k.locks.memHotplug, 'read', body);
}

/** Under lock_device_hotplug(). */
export function withDeviceHotplug<T>(k: Kernel, body: () => T): T {
  return withLock(k, k.locks.deviceHotplug, 'write', body);
}
