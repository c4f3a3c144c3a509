/**
 * Python 3 scripts for test/e2e/fuse-posix.test.ts: each takes a directory as argv[1], runs
 * a sequence of system calls there and prints what a POSIX file system must answer (errno
 * names, sizes, modes, contents; never inode numbers or times), so its output on a mount can
 * be compared line by line with its output on ext4. `runPy` runs one as root or as uid 65534.
 */
import { spawnSync } from "node:child_process";

const PY = "/usr/bin/python3";
const PRELUDE = [
  "import errno, os, sys, time",
  "D = sys.argv[1]",
  "def p(*a): print(*a, flush=True)",
  "def tryit(label, fn):",
  "    try:",
  "        fn(); p(label, 'ok')",
  "    except OSError as e:",
  "        p(label, errno.errorcode[e.errno])",
].join("\n");

/** Runs `script` on `dir`: as root, or as uid/gid 65534 with the supplementary `groups`. */
export function runPy(script: string, dir: string, as?: { groups: number[] }): string {
  const py = [PY, "-c", `${PRELUDE}\n${script}`, dir];
  const cmd = as
    ? ["setpriv", "--reuid=65534", "--regid=65534", `--groups=${as.groups.join(",")}`, ...py]
    : py;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", cwd: "/" });
  return r.stdout + (r.status === 0 ? "" : `exit ${r.status}: ${r.stderr}`);
}

/** As 65534 in groups 65534 and 100: chgrp of its own file to 100, then to a group it is not in. */
export const CHGRP_SUPPLEMENTARY = `
f = os.path.join(D, "sg", "mine")
open(f, "w").close()
tryit("chgrp to a supplementary group", lambda: os.chown(f, -1, 100))
p("gid", os.stat(f).st_gid)
tryit("chgrp to a group not its own", lambda: os.chown(f, -1, 4))
tryit("chgrp back to the primary group", lambda: os.chown(f, -1, 65534))
p("gid", os.stat(f).st_gid)
`;

/** As 65534: appends to root's set-id files it may write; prints the modes after. */
export const WRITE_SETID = `
for name in ["su", "sg", "sugx"]:
    f = os.path.join(D, "setid", name)
    def w():
        with open(f, "a") as h: h.write("x")
    tryit("append to " + name, w)
    p(name, oct(os.stat(f).st_mode & 0o7777), os.stat(f).st_size)
def t():
    os.truncate(os.path.join(D, "setid", "tr"), 1)
tryit("truncate tr", t)
p("tr", oct(os.stat(os.path.join(D, "setid", "tr")).st_mode & 0o7777))
`;

/** Names of 256 bytes (and a long middle component) on every path op; 255 bytes work. */
export const LONG_NAMES = `
L = os.path.join(D, "a" * 256)
M = os.path.join(D, "b" * 256, "x")
ok = os.path.join(D, "c" * 255)
f = os.path.join(D, "plain")
open(f, "w").close()
os.mkdir(os.path.join(D, "dir"))
tryit("create 255", lambda: open(ok, "w").close())
tryit("stat 255", lambda: os.stat(ok))
for path, tag in [(L, "last"), (M, "middle")]:
    tryit("stat " + tag, lambda: os.stat(path))
    tryit("lstat " + tag, lambda: os.lstat(path))
    tryit("open " + tag, lambda: os.open(path, os.O_RDONLY))
    tryit("create " + tag, lambda: os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    tryit("mkdir " + tag, lambda: os.mkdir(path))
    tryit("rmdir " + tag, lambda: os.rmdir(path))
    tryit("unlink " + tag, lambda: os.unlink(path))
    tryit("mkfifo " + tag, lambda: os.mkfifo(path))
    tryit("symlink " + tag, lambda: os.symlink("target", path))
    tryit("link to " + tag, lambda: os.link(f, path))
    tryit("rename to " + tag, lambda: os.rename(f, path))
    tryit("rename from " + tag, lambda: os.rename(path, f + "2"))
    tryit("chmod " + tag, lambda: os.chmod(path, 0o600))
    tryit("chown " + tag, lambda: os.chown(path, 0, 0))
    tryit("utime " + tag, lambda: os.utime(path, (1, 1)))
    tryit("truncate " + tag, lambda: os.truncate(path, 0))
    tryit("readlink " + tag, lambda: os.readlink(path))
    tryit("access " + tag, lambda: os.access(path, os.R_OK) or os.stat(path))
    tryit("setxattr " + tag, lambda: os.setxattr(path, "user.x", b"1"))
    tryit("getxattr " + tag, lambda: os.getxattr(path, "user.x"))
    tryit("listxattr " + tag, lambda: os.listxattr(path))
    tryit("removexattr " + tag, lambda: os.removexattr(path, "user.x"))
    tryit("listdir " + tag, lambda: os.listdir(path))
`;

/**
 * ctime after chmod, chown, link, rename and setxattr of a file with unsaved writes (open,
 * written, not closed): it advances at each, through fstat and stat, and close keeps it.
 */
export const CTIME_OPEN_FILE = `
f = os.path.join(D, "ct")
fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
steps = [
    ("chmod", lambda: os.chmod(f, 0o600)),
    ("chown", lambda: os.chown(f, 0, 100)),
    ("link", lambda: os.link(f, f + ".l")),
    ("rename", lambda: os.rename(f + ".l", f + ".m")),
    ("setxattr", lambda: os.setxattr(f, "user.k", b"v")),
]
last = 0
for name, fn in steps:
    os.write(fd, b"data")
    before = os.fstat(fd).st_ctime_ns
    time.sleep(0.02)
    fn()
    now = os.fstat(fd).st_ctime_ns
    p(name, "ctime advances (fstat)", now > before, "stat agrees", os.stat(f).st_ctime_ns == now)
    last = now
os.close(fd)
p("after close: ctime kept", os.stat(f).st_ctime_ns == last)
`;

/**
 * Kernel cache coherence: a file changed through one hard-link name is seen changed through
 * the other at once (data, size, mode, link count), with the other name's pages and
 * attributes cached beforehand; a file renamed over is seen at once; a truncate by another
 * process is seen at once by one that has the file open.
 */
export const COHERENCE = `
import subprocess
a = os.path.join(D, "a"); b = os.path.join(D, "b")
def rd(x):
    with open(x, "rb") as h: return h.read()
def st(x):
    s = os.stat(x); return (s.st_size, oct(s.st_mode & 0o7777), s.st_nlink)
with open(a, "wb") as h: h.write(b"hello")
os.link(a, b)
p("b", rd(b), st(b))
with open(a, "ab") as h: h.write(b" world")
p("after append via a: b", rd(b), st(b))
fd = os.open(a, os.O_WRONLY)
os.pwrite(fd, b"J", 0)
p("unsaved write via a: b", rd(b), st(b))
os.close(fd)
rb = os.open(b, os.O_RDONLY)
p("b open", os.pread(rb, 64, 0))
with open(a, "r+b") as h: h.write(b"H")
p("write via a: b's open fd", os.pread(rb, 64, 0), os.fstat(rb).st_size)
os.truncate(a, 4)
p("truncate via a: b's open fd", os.pread(rb, 64, 0), os.fstat(rb).st_size)
subprocess.run(["truncate", "-s", "2", b], check=True)
p("truncate of b by another process: a", st(a), "fd", os.fstat(rb).st_size)
os.close(rb)
os.chmod(a, 0o640)
p("chmod via a: b", st(b))
os.setxattr(a, "user.c", b"1")
p("setxattr via a: b", os.getxattr(b, "user.c"))
os.link(a, os.path.join(D, "c"))
p("link c: a", st(a), "b", st(b))
os.unlink(os.path.join(D, "c"))
p("unlink c: a", st(a), "b", st(b))
t = os.path.join(D, "t"); s = os.path.join(D, "s")
with open(t, "wb") as h: h.write(b"old target")
with open(s, "wb") as h: h.write(b"new")
p("t", rd(t), st(t))
os.link(t, t + ".2")
p("t.2", rd(t + ".2"), st(t + ".2"))
os.rename(s, t)
p("renamed over: t", rd(t), st(t), "t.2", st(t + ".2"))
os.rename(b, t + ".2")
p("b renamed over t.2: a", st(a), "t.2", rd(t + ".2"), st(t + ".2"))
g = os.path.join(D, "g")
with open(g, "wb") as h: h.write(b"x" * 10000)
fd = os.open(g, os.O_RDONLY)
p("g", os.fstat(fd).st_size, len(os.pread(fd, 20000, 0)))
subprocess.run(["truncate", "-s", "100", g], check=True)
p("truncated by another process: fd", os.fstat(fd).st_size, len(os.pread(fd, 20000, 0)), "stat", os.stat(g).st_size)
os.close(fd)
`;
