/**
 * The binding's trimHeap (malloc_trim), which a serving mount calls now and then: heap memory
 * freed between chunks still in use goes back to the system. Counted in resident bytes of a
 * child process (never timed): it allocates 160 MiB of 8 KiB buffers (glibc heap memory, as
 * Node's buffers of that size are), keeps one in eight, collects the rest, then trims.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { suiteNeeding } from "../helpers/services.js";

const run = promisify(execFile);
const fuse = suiteNeeding("heap-trim", ["fuse"]);
const addonModule = fileURLToPath(new URL("../../src/fuse/native-addon.js", import.meta.url));

const CHILD = `
const { loadNativeAddon } = await import(${JSON.stringify(addonModule)});
const addon = loadNativeAddon();
const MIB = 1024 * 1024;
let bufs = [];
for (let i = 0; i < 20480; i++) bufs.push(Buffer.alloc(8192, i & 255));
const kept = bufs.filter((_, i) => i % 8 === 0);
bufs = [];
for (let i = 0; i < 4; i++) globalThis.gc();
const before = process.memoryUsage.rss();
const trimmed = addon.trimHeap();
const after = process.memoryUsage.rss();
process.stdout.write(JSON.stringify({ trimmed, freedMib: (before - after) / MIB, kept: kept.length }));
`;

fuse.test("heap-trim - freed heap memory between live chunks goes back to the system", async () => {
  const { stdout } = await run(process.execPath, [
    "--expose-gc",
    "--input-type=module",
    "-e",
    CHILD,
  ]);
  const r = JSON.parse(stdout) as { trimmed: boolean; freedMib: number; kept: number };
  assert.is(r.kept, 2560);
  assert.is(r.trimmed, true);
  // 140 MiB were freed in runs of 56 KiB between kept buffers: most of their pages go back
  assert.ok(r.freedMib > 60, `trimHeap gave back ${r.freedMib.toFixed(1)} MiB`);
});

fuse.test.run();
