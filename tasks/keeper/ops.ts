/**
 * `--metrics-port`: a plain HTTP server for the operator, `GET /metrics` (Prometheus text format) and `GET /healthz`
 * (200 or 503 with a small JSON body, health.ts). It binds to 127.0.0.1 unless `--metrics-host` says otherwise: the
 * metrics tell anyone who can read them what the keeper earns and when it acts.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import { explain, TaskError } from "../shared/errors";
import type { KeeperLog } from "./log";
import type { KeeperMetrics } from "./metrics";

export interface OpsServer {
  /** The port bound: the one asked for, or the one the system picked for port 0. */
  port: number;
  url: string;
  close(): Promise<void>;
}

async function respond(metrics: KeeperMetrics, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("GET /metrics or /healthz\n");
  } else if (path === "/metrics") {
    const body = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body);
  } else if (path === "/healthz") {
    const report = metrics.health.report();
    res
      .writeHead(report.healthy ? 200 : 503, { "content-type": "application/json" })
      .end(`${JSON.stringify(report)}\n`);
  } else {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics or /healthz\n");
  }
}

/** `listen`'s error as what the operator should do. */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): TaskError {
  switch (e.code) {
    case "EADDRINUSE":
      return new TaskError(
        `--metrics-port ${port}: ${host}:${port} is already in use (another keeper?): stop what listens there, or pick another port`,
      );
    case "EACCES":
      return new TaskError(`--metrics-port ${port}: binding a port below 1024 needs privileges: pick a higher port`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new TaskError(
        `--metrics-host ${host} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface`,
      );
    default:
      return explain(`Serving metrics on ${host}:${port}`, e);
  }
}

export function startOpsServer(metrics: KeeperMetrics, host: string, port: number, log: KeeperLog): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    respond(metrics, req, res).catch((e: unknown) => {
      log.warn("metrics-request-failed", { path: req.url, reason: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(listenError(e, host, port)));
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
      log.info("metrics-listening", { url, metrics: `${url}/metrics`, health: `${url}/healthz` });
      resolve({
        port: bound,
        url,
        close: () =>
          new Promise<void>((done) => {
            // A scraper's keep-alive connection would hold the server open.
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
