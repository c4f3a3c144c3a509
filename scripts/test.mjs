// Runs the uvu suites under dist/test (or only dist/test/unit with "unit", dist/test/e2e
// with "e2e") and ends with one plain summary line ("tests: N passed, N failed") for
// readers of CI logs. Further arguments go to uvu.
import { spawn } from "node:child_process";

const rest = process.argv.slice(2);
const part = rest[0] === "unit" || rest[0] === "e2e" ? rest.shift() : undefined;
const dir = part === undefined ? "dist/test" : `dist/test/${part}`;
const args = [dir, ".test.js$", "-i", "helpers", ...rest];
const child = spawn(process.execPath, ["node_modules/uvu/bin.js", ...args], {
  stdio: ["ignore", "pipe", "inherit"],
});
let out = "";
child.stdout.on("data", (d) => {
  process.stdout.write(d);
  out += d.toString();
});
child.on("close", (code) => {
  // uvu colours its counters; strip escapes before reading them
  const plain = out.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = code === 0 ? total - passed - skipped : Math.max(1, total - passed - skipped);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
