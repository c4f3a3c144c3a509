/**
 * Child-process entry for tests: serves a store with `mount --foreground` (the real command),
 * so the test process can read the mount with sync calls without serving it itself.
 * Usage: node serve-store.js <store-dir> <mountpoint> [mount options...]
 */
import { mountCommand } from "../../src/cli/cmd-mount.js";

const io = { stdout: process.stdout, stderr: process.stderr, isTTY: false, env: process.env };
mountCommand
  .run([...process.argv.slice(2), "--foreground"], io)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    process.stderr.write(`serve-store: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
