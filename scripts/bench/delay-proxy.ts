/**
 * A TCP proxy on loopback that delays every byte by a fixed one-way time in each
 * direction, so a local S3 gateway answers as if it were `2 × delayMs` of round trip
 * away (bandwidth is not limited, order is kept). The bench's superchunk-s3-rtt row
 * reads through it: the cost of an object store across a network, not just the gateway.
 */
import * as net from "node:net";

/** A running proxy. */
export interface DelayProxy {
  /** `http://127.0.0.1:<port>`: the target's endpoint as seen through the proxy */
  readonly endpoint: string;
  /** Stops listening and cuts every connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Forwards connections on a free loopback port to `target` (`http://host:port`),
 * each chunk sent `delayMs` after it arrived (never before the chunk ahead of it).
 */
export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  // half-open on both sides: an end is passed on (late) rather than answered at once
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      allowHalfOpen: true,
    });
    client.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipeDelayed(client, upstream, delayMs);
    pipeDelayed(upstream, client, delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** Copies `from` to `to`, each chunk `delayMs` late; an end or error is passed on as late. */
function pipeDelayed(from: net.Socket, to: net.Socket, delayMs: number): void {
  let last = 0;
  const later = (fn: () => void) => {
    last = Math.max(Date.now() + delayMs, last);
    setTimeout(fn, last - Date.now());
  };
  from.on("data", (chunk: Buffer) => later(() => to.destroyed || to.write(chunk)));
  from.on("end", () => later(() => to.end()));
}
