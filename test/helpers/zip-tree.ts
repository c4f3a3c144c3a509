/**
 * Test helpers for zip import/export: run the CLI in-process, list a tree as
 * comparable records, and tell whether the system zip/unzip tools exist.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** True when `tool` runs (e.g. "zip", "unzip"). */
export function hasTool(tool: string): boolean {
  return spawnSync("which", [tool]).status === 0;
}

/** One entry of a listed tree. */
export interface Listed {
  kind: "file" | "dir" | "symlink" | "other";
  mode: number;
  /** whole seconds */
  mtime: number;
  sha?: string;
  target?: string;
}

/** Every entry below `root` (not the root itself), keyed by relative path. */
export function listTree(root: string): Map<string, Listed> {
  const out = new Map<string, Listed>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const base = { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        out.set(r, { kind: "dir", ...base });
        walk(r);
      } else if (st.isSymbolicLink()) {
        out.set(r, { kind: "symlink", ...base, target: fs.readlinkSync(abs) });
      } else if (st.isFile()) {
        const sha = createHash("sha256").update(fs.readFileSync(abs)).digest("hex");
        out.set(r, { kind: "file", ...base, sha });
      } else out.set(r, { kind: "other", ...base });
    }
  };
  walk("");
  return out;
}

/**
 * Differences between two listed trees. `mtimeSlack` seconds are tolerated (DOS time
 * has 2-second steps); symlink modes and times are not compared (unzip sets neither).
 */
export function diffTrees(
  a: Map<string, Listed>,
  b: Map<string, Listed>,
  mtimeSlack = 0,
): string[] {
  const out: string[] = [];
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y) {
      out.push(`${k}: missing on the right`);
      continue;
    }
    if (x.kind !== y.kind) out.push(`${k}: kind ${x.kind} vs ${y.kind}`);
    else if (x.kind === "symlink") {
      if (x.target !== y.target) out.push(`${k}: target ${x.target} vs ${y.target}`);
      continue;
    }
    if (x.sha !== y.sha) out.push(`${k}: content differs`);
    if (x.mode !== y.mode) out.push(`${k}: mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}`);
    if (Math.abs(x.mtime - y.mtime) > mtimeSlack) out.push(`${k}: mtime ${x.mtime} vs ${y.mtime}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: missing on the left`);
  return out;
}
