/**
 * Child-process entry for the memory budget test: the peak RSS of this Node with the mount
 * command's modules loaded and a two-thread codec pool (the mount server's default) that
 * has compressed and inflated, but no store opened and no cache filled. Prints the peak
 * in KiB (VmHWM). The runtime's own share differs between Node versions (24 needs
 * about 20 MiB more than 20), so a budget on the server counts from this.
 */
import * as fs from "node:fs";
import "../../src/cli/cmd-mount.js";
import { CodecPool } from "../../src/codec/index.js";

const pool = new CodecPool({ threads: 2 });
const raw = Buffer.alloc(64 * 1024, 1);
const packed = await Promise.all([1, 2, 3, 4].map(() => pool.compress("zstd", 3, raw)));
await Promise.all(packed.map((p) => pool.inflate("zstd", p, raw.length)));
const status = fs.readFileSync("/proc/self/status", "utf8");
process.stdout.write(`${/VmHWM:\s+(\d+) kB/.exec(status)![1]}\n`);
await pool.close();
