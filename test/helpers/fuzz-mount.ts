/**
 * The fuzz's mount pass: a damaged store or archive served read-only by a real
 * `mount --foreground` child process, every entry stat'ed and every regular file read
 * through the kernel, and the rules: a read may fail with EIO, but bytes served for a path
 * the source holds as a regular file must be the source's, a type served for a source path
 * must be the source's (or EIO); the server neither hangs (deadline), nor dies under its
 * mount (ENOTCONN), nor prints a stack trace, and exits 0 once unmounted. A mount that
 * refuses to start is fine when it fails without a stack trace.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { isMounted, lazyUnmountSync, type ServedStore, serveStore } from "./mount.js";

export type MountOutcome = "identical" | "EIO" | "refused" | "VIOLATION";

/** The verdict on one mount of a damaged copy. */
export interface MountVerdict {
  readonly outcome: MountOutcome;
  readonly why: string;
  readonly notes: string[];
}

interface Tally {
  eio: number;
  files: number;
  readonly violations: string[];
  readonly notes: Set<string>;
}

const STACK = /\n\s+at\s/;

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Records a failed call: EIO is allowed, anything else is a violation. */
function failed(t: Tally, what: string, err: unknown): void {
  const code = errnoOf(err);
  if (code === "EIO") t.eio++;
  else t.violations.push(`${what}: ${code} (only EIO is allowed)`);
}

async function readTree(src: string, mnt: string, rel: string, t: Tally): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(path.join(mnt, rel));
  } catch (err) {
    return failed(t, `readdir ${rel || "/"}`, err);
  }
  for (const name of names) {
    const r = path.join(rel, name);
    let st: fs.Stats;
    try {
      st = await fsp.lstat(path.join(mnt, r));
    } catch (err) {
      failed(t, `stat ${r}`, err);
      continue;
    }
    const s = fs.lstatSync(path.join(src, r), { throwIfNoEntry: false });
    if (s === undefined) t.notes.add("lists paths the source does not have");
    else if ((s.mode & 0o170000) !== (st.mode & 0o170000)) {
      t.violations.push(
        `${r}: type ${st.mode & 0o170000} served, the source has ${s.mode & 0o170000}`,
      );
      continue;
    }
    if (st.isDirectory()) await readTree(src, mnt, r, t);
    else if (st.isFile()) await readFile(src, mnt, r, s?.isFile() === true, t);
  }
}

/** Bytes read a call, and how far past the source's length a read goes before it stops. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a regular file through the mount in chunks (never a FIFO: opening one would block;
 * never trusting the size it claims) until EOF or one chunk past the source's length.
 */
async function readFile(src: string, mnt: string, r: string, inSource: boolean, t: Tally) {
  const want = inSource ? fs.readFileSync(path.join(src, r)) : Buffer.alloc(0);
  const parts: Buffer[] = [];
  let total = 0;
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path.join(mnt, r), "r");
    for (;;) {
      const buf = Buffer.alloc(CHUNK_BYTES);
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, total);
      if (bytesRead === 0 || total > want.length + CHUNK_BYTES) break;
      parts.push(buf.subarray(0, bytesRead));
      total += bytesRead;
    }
  } catch (err) {
    return failed(t, `read ${r} at ${total}`, err);
  } finally {
    await fh?.close();
  }
  t.files++;
  if (!inSource) return;
  const got = Buffer.concat(parts);
  if (got.equals(want)) return;
  const short = got.length < want.length && want.subarray(0, got.length).equals(got);
  t.violations.push(
    short
      ? `${r}: short read, EOF after ${got.length} of ${want.length} bytes (no error)`
      : `${r}: wrong bytes served (${got.length} read, source ${want.length})`,
  );
}

/**
 * Mounts `target` on `mnt`, reads everything, unmounts; `deadlineMs` bounds the start and
 * the whole read (the server is killed when it passes).
 */
export async function judgeMount(
  src: string,
  target: string,
  mnt: string,
  deadlineMs: number,
): Promise<MountVerdict> {
  const bad = (why: string): MountVerdict => ({ outcome: "VIOLATION", why, notes: [] });
  let served: ServedStore;
  try {
    // every mount is read-only by default; a store directory says so explicitly too
    const ro = fs.statSync(target).isDirectory() ? ["--read-only"] : [];
    served = await withDeadline(serveStore(target, mnt, ["--cache-size", "8M", ...ro]), deadlineMs);
  } catch (err) {
    if (isMounted(mnt)) lazyUnmountSync(mnt);
    const msg = err instanceof Error ? err.message : String(err);
    if (msg === DEADLINE) return bad(`mount did not start in ${deadlineMs / 1000} s`);
    if (STACK.test(msg)) return bad(`mount refused with a stack trace: ${msg.split("\n")[0]}`);
    return { outcome: "refused", why: msg.split("\n")[0] as string, notes: [] };
  }
  const t: Tally = { eio: 0, files: 0, violations: [], notes: new Set() };
  let hung = false;
  try {
    await withDeadline(readTree(src, mnt, "", t), deadlineMs);
  } catch {
    hung = true;
    process.kill(served.pid, "SIGKILL");
  } finally {
    lazyUnmountSync(mnt);
  }
  const code = await withDeadline(served.exited, deadlineMs).catch(() => {
    process.kill(served.pid, "SIGKILL");
    return "hung";
  });
  const log = served.stderr();
  if (hung) return bad(`reads did not finish in ${deadlineMs / 1000} s`);
  if (t.violations.some((v) => v.includes("ENOTCONN"))) return bad(`server died: ${lastLine(log)}`);
  if (t.violations.length > 0) return bad(t.violations[0] as string);
  if (STACK.test(log)) return bad(`server printed a stack trace: ${lastLine(log)}`);
  if (code !== 0) return bad(`server exited ${code} after unmount: ${lastLine(log)}`);
  const notes = [...t.notes];
  if (t.eio > 0) return { outcome: "EIO", why: `${t.eio} EIO, ${t.files} files read`, notes };
  return { outcome: "identical", why: `${t.files} files read`, notes };
}

const DEADLINE = "deadline passed";

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(DEADLINE)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function lastLine(s: string): string {
  return s.trim().split("\n").pop()?.slice(0, 160) ?? "";
}
