// Runs the uvu suites under dist/test and ends with one plain summary line
// ("tests: N passed, N failed") for readers of CI logs.
import { spawn } from "node:child_process";

const args = ["dist/test", ".test.js$", "-i", "helpers", ...process.argv.slice(2)];
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
