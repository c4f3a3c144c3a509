// Runs the uvu suites under dist/test (or only dist/test/unit with "unit", dist/test/e2e
// with "e2e") and ends with one plain summary line ("tests: N passed, N failed") for
// readers of CI logs, after repeating each failure uvu reported (a CI log keeps only its
// tail, and uvu prints a failure where its file ran). Further arguments go to uvu.
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
  for (const failure of failures(plain)) console.log(failure);
  const failed = code === 0 ? total - passed - skipped : Math.max(1, total - passed - skipped);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});

// uvu's failure blocks: a " FAIL " line (the file's suite and the test's name), the message
// and the stack (at most 25 lines of them)
function failures(plain) {
  const lines = plain.split("\n");
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s+FAIL\s/.test(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && end - i < 26 && !/^\s+(FAIL\s|Total:)/.test(lines[end])) end++;
    found.push(lines.slice(i, end).join("\n"));
  }
  return found;
}
