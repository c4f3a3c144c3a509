import * as net from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startDelayProxy } from "../../scripts/bench/delay-proxy.js";

/** An echo server on loopback that upper-cases what it gets and ends when the client does. */
async function echoServer(): Promise<{ endpoint: string; server: net.Server }> {
  const server = net.createServer((s) => {
    s.on("data", (d: Buffer) => s.write(d.toString("latin1").toUpperCase(), "latin1"));
    s.on("end", () => s.end("<bye>"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, server };
}

/** Sends `parts` one write each through `endpoint`, half-closes, and collects the reply. */
function exchange(endpoint: string, parts: readonly string[]): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: hostname, port: Number(port) });
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    s.on("end", () => resolve(got));
    s.on("error", reject);
    s.on("connect", () => {
      for (const p of parts) s.write(p, "latin1");
      s.end();
    });
  });
}

test("delay-proxy - passes bytes both ways in order, and the ends", async () => {
  const { endpoint, server } = await echoServer();
  const proxy = await startDelayProxy(endpoint, 5);
  try {
    assert.ok(/^http:\/\/127\.0\.0\.1:\d+$/.test(proxy.endpoint), proxy.endpoint);
    const parts = Array.from({ length: 200 }, (_, i) => `part ${i};`);
    const reply = await exchange(proxy.endpoint, parts);
    assert.is(reply, `${parts.join("").toUpperCase()}<bye>`);
    const big = "x".repeat(3 * 1024 * 1024);
    assert.is(await exchange(proxy.endpoint, [big]), `${big.toUpperCase()}<bye>`);
  } finally {
    await proxy.close();
    server.close();
  }
});

test("delay-proxy - close cuts open connections and is idempotent", async () => {
  const { endpoint, server } = await echoServer();
  const proxy = await startDelayProxy(endpoint, 1);
  const { hostname, port } = new URL(proxy.endpoint);
  const open = net.connect({ host: hostname, port: Number(port) });
  const closed = new Promise<void>((resolve) => open.on("close", () => resolve()));
  open.on("error", () => {});
  await new Promise<void>((resolve) => open.on("connect", () => resolve()));
  try {
    await Promise.all([proxy.close(), proxy.close()]);
    await closed;
    const refused = await exchange(proxy.endpoint, ["hi"]).then(
      () => null,
      (e: NodeJS.ErrnoException) => e.code,
    );
    assert.is(refused, "ECONNREFUSED");
  } finally {
    server.close();
  }
});

test.run();
