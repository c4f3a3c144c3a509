/**
 * A real nginx serving a directory on 127.0.0.1 at a free port, for tests and the bench:
 * a generated config in a private temporary directory (pid file, logs, temp paths),
 * `daemon off; master_process off;` as a child process of this one, stopped by stop().
 * The access log records `status body_bytes_sent "range"` per request, so callers can
 * count what the server really sent.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const NGINX_BIN = "/usr/sbin/nginx";
const READY_MS = 10_000;

/** A running nginx. */
export interface Nginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>/<rel>` */
  url(rel: string): string;
  /** Requests logged so far: status, body bytes sent, Range header ("-" when none). */
  requests(): { status: number; bytes: number; range: string }[];
  /** Sum of body bytes sent so far. */
  bytesSent(): number;
  /** Stops nginx and removes its config directory; idempotent. */
  stop(): Promise<void>;
}

/** Why nginx tests cannot run here, or undefined when they can. */
export function nginxSkipReason(): string | undefined {
  return fs.existsSync(NGINX_BIN) ? undefined : `${NGINX_BIN} not installed`;
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function config(dir: string, root: string, port: number): string {
  const p = (name: string) => path.join(dir, name);
  return `daemon off;
master_process off;
pid ${p("nginx.pid")};
error_log ${p("error.log")} warn;
events { worker_connections 256; }
http {
  log_format counted '$status $body_bytes_sent "$http_range"';
  access_log ${p("access.log")} counted;
  client_body_temp_path ${p("tmp-body")};
  proxy_temp_path ${p("tmp-proxy")};
  fastcgi_temp_path ${p("tmp-fastcgi")};
  uwsgi_temp_path ${p("tmp-uwsgi")};
  scgi_temp_path ${p("tmp-scgi")};
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function waitReady(child: ChildProcess, port: number, dir: string): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      const log = fs.readFileSync(path.join(dir, "error.log"), "utf8");
      throw new Error(`nginx did not start on port ${port}: ${log.slice(-500)}`);
    }
    await sleep(30);
  }
}

/** Starts nginx serving `root` (an absolute directory). */
export async function startNginx(root: string): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "superchunk-nginx-"));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "nginx.conf"), config(dir, path.resolve(root), port));
  fs.writeFileSync(path.join(dir, "error.log"), "");
  const child = spawn(NGINX_BIN, ["-p", dir, "-c", path.join(dir, "nginx.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await waitReady(child, port, dir);
  let stopped = false;
  const requests = () => {
    const text = fs.readFileSync(path.join(dir, "access.log"), "utf8");
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const m = /^(\d+) (\d+) "(.*)"$/.exec(l);
        return { status: Number(m?.[1]), bytes: Number(m?.[2]), range: m?.[3] ?? "" };
      });
  };
  return {
    port,
    url: (rel) => `http://127.0.0.1:${port}/${rel.replace(/^\/+/, "")}`,
    requests,
    bytesSent: () => requests().reduce((n, r) => n + r.bytes, 0),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
