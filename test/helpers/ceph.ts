/**
 * A throwaway single-node Ceph cluster serving S3 through the RADOS Gateway, for tests
 * and the bench: one mon, one OSD on memstore (in memory, sized well above test data),
 * radosgw, no mgr, cephx off, everything bound to 127.0.0.1 at free ports, every path
 * (conf, keyring, run, log, data) in a private temporary directory. Daemons run as
 * children of this process and are stopped by stop() (also at process exit). Facts
 * this relies on (issue 7): without cephx radosgw needs `ms mon client mode = crc`;
 * `paxos propose interval = 0.05` makes the start fast; memstore hangs when full.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./nginx.js";

const BINARIES = [
  "ceph-mon",
  "ceph-osd",
  "radosgw",
  "radosgw-admin",
  "monmaptool",
  "ceph-authtool",
  "ceph",
];
const READY_MS = 90_000;
const MEMSTORE_BYTES = 1024 * 1024 * 1024;

/** A running cluster. */
export interface Ceph {
  /** `http://127.0.0.1:<port>` of radosgw */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** ms from the start of startCeph() until S3 answered and the user existed */
  readonly startMs: number;
  /** the AWS_* variables a client needs to reach it */
  env(): Record<string, string>;
  /**
   * Freezes radosgw (SIGSTOP): connections are accepted, nothing answers. Resolves once
   * every thread of it shows as stopped, so nothing sent afterwards is answered.
   */
  pauseGateway(): Promise<void>;
  /** Thaws radosgw (SIGCONT). */
  resumeGateway(): void;
  /**
   * Kills radosgw at once (SIGKILL, sent before this returns: a crash, in-flight
   * requests are cut) and resolves when it has exited. The mon and OSD keep running,
   * so the data stays. Idempotent.
   */
  stopGateway(): Promise<void>;
  /**
   * Starts radosgw again (same config, same port) and resolves once S3 answers;
   * a no-op when it is running.
   */
  startGateway(): Promise<void>;
  /** Stops every daemon and removes the directory; idempotent. */
  stop(): Promise<void>;
}

/** Why Ceph tests cannot run here, or undefined when they can. */
export function cephSkipReason(): string | undefined {
  if (process.env.SUPERCHUNK_TEST_CEPH === "0") return "SUPERCHUNK_TEST_CEPH=0";
  const missing = BINARIES.filter((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status !== 0);
  if (missing.length > 0) {
    return `ceph binaries missing (${missing.join(", ")}): apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`;
  }
  return undefined;
}

function conf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  const p = (...parts: string[]) => path.join(dir, ...parts);
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
keyring = ${p("keyring")}
run dir = ${p("run")}
admin socket = ${p("run", "$name.asok")}
pid file = ${p("run", "$name.pid")}
log file = ${p("log", "$name.log")}
crash dir = ${p("crash")}
log to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
paxos propose interval = 0.05
[mon]
mon data = ${p("mon", "$name")}
mon cluster log file = ${p("log", "cluster.log")}
[osd]
osd data = ${p("osd", "$name")}
osd objectstore = memstore
memstore device bytes = ${MEMSTORE_BYTES}
[client]
ms mon client mode = crc
# without tcp_nodelay every GET answered in less than one loopback segment (~64 KiB)
# waits ~40 ms for the delayed ACK of its headers
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw data = ${p("rgw")}
`;
}

/** Runs a setup command to completion; throws with its output when it fails. */
function run(bin: string, args: string[], dir: string): string {
  const r = spawnSync(bin, args, { encoding: "utf8", timeout: 60_000, cwd: dir });
  if (r.status !== 0) {
    throw new Error(
      `${bin} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`,
    );
  }
  return r.stdout;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function daemon(bin: string, args: string[], dir: string): ChildProcess {
  const out = fs.openSync(path.join(dir, "log", `${bin}.out`), "a");
  try {
    const child = spawn(bin, args, { stdio: ["ignore", out, out], cwd: dir });
    live.add(child);
    child.once("exit", () => live.delete(child));
    return child;
  } finally {
    fs.closeSync(out);
  }
}

/** Resolves once every thread of `pid` is in the stopped state (T), within 5 s. */
async function untilStopped(pid: number): Promise<void> {
  // the state is the field after the parenthesised command name
  const state = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2)[0];
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(5)) {
    const tasks = fs.readdirSync(`/proc/${pid}/task`);
    const states = tasks.map((t) => state(fs.readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8")));
    if (states.every((s) => s === "T" || s === "t")) return;
  }
  throw new Error(`radosgw (pid ${pid}) did not stop within 5 s of SIGSTOP`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Resolves once radosgw answers HTTP at `endpoint`; throws with the logs' tails after READY_MS. */
async function waitForGateway(endpoint: string, dir: string, kids: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    const dead = kids.find((k) => k.exitCode !== null || k.signalCode !== null);
    if (dead !== undefined || Date.now() > deadline) {
      throw new Error(`radosgw did not come up at ${endpoint}: ${logTails(dir)}`);
    }
    await sleep(50);
  }
}

function logTails(dir: string): string {
  const logs = path.join(dir, "log");
  return fs
    .readdirSync(logs)
    .map((f) => `--- ${f}\n${fs.readFileSync(path.join(logs, f), "utf8").slice(-1500)}`)
    .join("\n");
}

/** Creates the monitor's store and starts ceph-mon. */
function startMon(dir: string, cfg: string, fsid: string, monPort: number): ChildProcess {
  const keyring = path.join(dir, "keyring");
  run(
    "ceph-authtool",
    ["--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"],
    dir,
  );
  run(
    "ceph-authtool",
    [
      keyring,
      "--gen-key",
      "-n",
      "client.admin",
      "--cap",
      "mon",
      "allow *",
      "--cap",
      "osd",
      "allow *",
    ],
    dir,
  );
  const monmap = path.join(dir, "monmap");
  run(
    "monmaptool",
    ["--create", "--fsid", fsid, "--addv", "a", `[v2:127.0.0.1:${monPort}]`, monmap],
    dir,
  );
  fs.mkdirSync(path.join(dir, "mon", "mon.a"), { recursive: true });
  run("ceph-mon", ["-c", cfg, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring], dir);
  return daemon("ceph-mon", ["-c", cfg, "-i", "a", "-f"], dir);
}

/** Registers OSD 0 with the monitor, makes its (memstore) file system and starts it. */
function startOsd(dir: string, cfg: string): ChildProcess {
  const uuid = randomUUID();
  const id = run("ceph", ["-c", cfg, "--connect-timeout", "30", "osd", "new", uuid], dir).trim();
  fs.mkdirSync(path.join(dir, "osd", `osd.${id}`), { recursive: true });
  run("ceph-osd", ["-c", cfg, "-i", id, "--mkfs", "--osd-uuid", uuid], dir);
  return daemon("ceph-osd", ["-c", cfg, "-i", id, "-f"], dir);
}

/**
 * Starts a cluster and creates an S3 user. Rejects (leaving nothing running) when it
 * does not come up.
 */
export async function startCeph(): Promise<Ceph> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "superchunk-ceph-"));
  for (const d of ["run", "log", "crash", "rgw", "mon", "osd"]) fs.mkdirSync(path.join(dir, d));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const cfg = path.join(dir, "ceph.conf");
  fs.writeFileSync(cfg, conf(dir, fsid, monPort, rgwPort));
  const kids: ChildProcess[] = [];
  const stopAll = async () => {
    for (const k of kids.reverse()) await stopChild(k);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const accessKeyId = `SC${randomBytes(8).toString("hex").toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString("hex");
  let rgw: ChildProcess;
  try {
    kids.push(startMon(dir, cfg, fsid, monPort));
    kids.push(startOsd(dir, cfg));
    rgw = daemon("radosgw", ["-c", cfg, "-n", "client.rgw.a", "-f"], dir);
    kids.push(rgw);
    await waitForGateway(endpoint, dir, kids);
    run(
      "radosgw-admin",
      [
        "-c",
        cfg,
        "user",
        "create",
        "--uid",
        "superchunk-test",
        "--display-name",
        "superchunk test",
        "--access-key",
        accessKeyId,
        "--secret",
        secretAccessKey,
      ],
      dir,
    );
  } catch (err) {
    const tails = fs.existsSync(dir) ? logTails(dir) : "";
    await stopAll();
    throw new Error(`ceph did not start: ${(err as Error).message}\n${tails}`);
  }
  let stopped = false;
  const gateway = async (up: boolean) => {
    const running = rgw.exitCode === null && rgw.signalCode === null;
    if (up === running) return;
    if (!up) {
      const exited = new Promise<void>((r) => rgw.once("exit", () => r()));
      rgw.kill("SIGKILL");
      return await exited;
    }
    rgw = daemon("radosgw", ["-c", cfg, "-n", "client.rgw.a", "-f"], dir);
    kids.push(rgw);
    await waitForGateway(endpoint, dir, [kids[0]!, kids[1]!, rgw]);
  };
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    startMs: Date.now() - started,
    env: () => ({
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: endpoint,
    }),
    async pauseGateway() {
      rgw.kill("SIGSTOP");
      await untilStopped(rgw.pid!);
    },
    resumeGateway: () => rgw.kill("SIGCONT"),
    stopGateway: () => gateway(false),
    startGateway: () => gateway(true),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
