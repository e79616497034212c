#!/usr/bin/env node
// The npm registry reachable here serves only this platform's builds of
// packages like @rollup/rollup-<os>-<cpu>, so npm leaves the others out of
// package-lock.json, and `npm ci` then refuses the lockfile as out of sync.
// This adds a stub entry (optional, never installed: os "none") for every
// optional dependency the lockfile names but does not contain.
import { readFileSync, writeFileSync } from 'node:fs';

const path = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = key === '' ? '' : key + '/';
    if (pkgs[`${base}node_modules/${name}`] || pkgs[`node_modules/${name}`]) continue;
    // A range (vite 8 asks for napi-windows-process-start-time@^0.1.0) is no lockfile version: take its lowest.
    const exact = version.replace(/^[\^~=v\s]+/, '');
    pkgs[`node_modules/${name}`] = { version: exact, dev: entry.dev ?? undefined, optional: true, os: ['none'] };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} optional platform entries`);
