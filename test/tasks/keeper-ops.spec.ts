import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { formatEther, formatUnits } from "ethers";
import hre from "hardhat";
import http from "node:http";
import type { AddressInfo } from "node:net";

import { resolveKeeperArgs } from "../../tasks/keeper/config";
import { PassHealth, staleAfterMs } from "../../tasks/keeper/health";
import { runLoop, type PassObserver } from "../../tasks/keeper/loop";
import { parseLogLines } from "../../tasks/keeper/log";
import { keeperRun, startKeeperMetrics } from "../../tasks/keeper/run";
import type { PassSummary } from "../../tasks/keeper/types";
import { expectTaskError, runTask } from "./helpers";
import { bot, keeperArgs, keeperFixture, outOfBandFixture, type KeeperFixture } from "./keeper-fixtures";

/** The bot with its metrics served on a free port, as `keeper:run --metrics-port 0` starts them. */
async function served(f: KeeperFixture, extra: { noIndex?: boolean } = {}) {
  const k = await bot(f, extra);
  const args = { ...resolveKeeperArgs(keeperArgs(f, { ...extra, once: false })), metricsPort: 0 };
  const { metrics, server } = await startKeeperMetrics(hre, k, args);
  return { ...k, metrics, server };
}

/** Runs the loop for `n` passes (ok or failed), the metrics told of each as the task tells them. */
async function passes(k: Awaited<ReturnType<typeof served>>, n: number): Promise<PassSummary[]> {
  const controller = new AbortController();
  const summaries: PassSummary[] = [];
  let seen = 0;
  const counted = () => {
    if (++seen === n) controller.abort();
  };
  const observer: PassObserver = {
    async passed(summary, seconds) {
      await k.metrics.passed(summary, seconds);
      summaries.push(summary);
      counted();
    },
    failed(error, seconds) {
      k.metrics.failed(error, seconds);
      counted();
    },
  };
  await runLoop(k.bot, { intervalMs: 5, signal: controller.signal, observer });
  return summaries;
}

/** A sample's value in Prometheus text format: `name{labels} value`; labels as written, e.g. `batched="true"`. */
function sample(text: string, name: string, labels = ""): number {
  const head = labels === "" ? `${name} ` : `${name}{${labels}} `;
  const line = text.split("\n").find((l) => l.startsWith(head));
  expect(line, `${head} in /metrics`).to.not.equal(undefined);
  return Number((line as string).slice(head.length));
}

async function get(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

/** The ETH the keeper paid for these transactions, from their receipts. */
async function gasPaid(hashes: readonly string[]): Promise<number> {
  const receipts = await Promise.all(hashes.map((h) => hre.ethers.provider.getTransactionReceipt(h)));
  return Number(formatEther(receipts.reduce((sum, r) => sum + (r?.fee ?? 0n), 0n)));
}

describe("keeper:run --metrics-port", () => {
  it("counts no sweep without the trigger-price index: every pass reads every vault, and no index is rebuilt", async () => {
    const f = await loadFixture(outOfBandFixture);
    const k = await served(f, { noIndex: true });
    try {
      const summaries = await passes(k, 2);
      expect(summaries.map((p) => [p.sweep, p.read])).to.deep.equal([
        [false, 4],
        [false, 4],
      ]);
      const text = (await get(`${k.server.url}/metrics`)).body;
      expect(sample(text, "ballast_keeper_sweeps_total")).to.equal(0);
      expect(sample(text, "ballast_keeper_vaults_read")).to.equal(4);
    } finally {
      await k.server.close();
    }
  });

  it("serves the passes' counts, rewards, gas and last block at /metrics, and /healthz turns 503 when passes fail", async () => {
    const f = await loadFixture(outOfBandFixture);
    const k = await served(f);
    try {
      const [kick] = await passes(k, 1);
      expect(kick.kicked).to.have.length(3);
      await f.world.advance(300);
      const [execute] = await passes(k, 1);
      expect(execute.executed).to.have.length(3);

      const scrape = await get(`${k.server.url}/metrics`);
      expect(scrape.status).to.equal(200);
      expect(scrape.type).to.match(/^text\/plain; version=0\.0\.4/);
      const text = scrape.body;
      expect(sample(text, "ballast_keeper_passes_total", 'outcome="ok"')).to.equal(2);
      expect(sample(text, "ballast_keeper_kicks_total")).to.equal(3);
      expect(sample(text, "ballast_keeper_executions_total", 'batched="true"')).to.equal(3);
      expect(sample(text, "ballast_keeper_cancels_total")).to.equal(0);
      expect(sample(text, "ballast_keeper_lost_races_total", 'action="execute"')).to.equal(0);
      expect(sample(text, "ballast_keeper_last_block")).to.equal(execute.block);
      expect(sample(text, "ballast_keeper_vaults_known")).to.equal(4);
      expect(sample(text, "ballast_keeper_vaults_out_of_band")).to.equal(3);
      // The first pass swept all four; the second read only the three whose auctions run (v2 is in band, uncrossed).
      expect(sample(text, "ballast_keeper_sweeps_total")).to.equal(1);
      expect(sample(text, "ballast_keeper_vaults_read")).to.equal(3);
      expect(sample(text, "ballast_keeper_pass_duration_seconds_count")).to.equal(2);
      // Every vault borrows USDC: the rewards are the Executed events' amounts, in USDC.
      const usdc = execute.executed.reduce((sum, e) => sum + e.reward, 0n);
      expect(usdc > 0n).to.equal(true);
      expect(sample(text, "ballast_keeper_rewards_total", 'token="USDC"')).to.be.closeTo(
        Number(formatUnits(usdc, 6)),
        1e-9,
      );
      const gas = await gasPaid([...kick.transactions, ...execute.transactions]);
      expect(gas > 0).to.equal(true);
      expect(sample(text, "ballast_keeper_gas_spent_eth_total")).to.be.closeTo(gas, 1e-15);
      expect(text).to.include("ballast_keeper_process_cpu_seconds_total");

      const ok = await get(`${k.server.url}/healthz`);
      expect(ok.status).to.equal(200);
      expect(ok.type).to.equal("application/json");
      expect(JSON.parse(ok.body)).to.include({ status: "ok", healthy: true, block: execute.block });

      // The lens's code becomes the forwarder's, which has no statuses(): every pass fails at the scan.
      await hre.network.provider.send("hardhat_setCode", [
        await f.lens.getAddress(),
        await hre.ethers.provider.getCode(f.forwarder),
      ]);
      await passes(k, 2);
      const failing = await get(`${k.server.url}/healthz`);
      expect(failing.status).to.equal(503);
      const report = JSON.parse(failing.body) as { status: string; reason: string; consecutiveFailures: number };
      expect(report).to.include({ status: "failing", consecutiveFailures: 2 });
      expect(report.reason).to.match(/^the last 2 passes failed: \w+: /);
      const after = (await get(`${k.server.url}/metrics`)).body;
      expect(sample(after, "ballast_keeper_passes_total", 'outcome="failed"')).to.equal(2);
      expect(sample(after, "ballast_keeper_passes_total", 'outcome="ok"')).to.equal(2);
      expect(after).to.match(/^ballast_keeper_failures_total\{stage="pass",reason="\w+"\} 2$/m);
      expect((await get(`${k.server.url}/nothing`)).status).to.equal(404);
    } finally {
      await k.server.close();
    }
  });

  it("keeper:run serves them while its loop runs, and closes the server when SIGTERM stops it", async () => {
    const f = await loadFixture(keeperFixture);
    let url: string | undefined;
    let scraped: Promise<{ metrics: string; health: number }> | undefined;
    const scrape = async (base: string) => {
      const [metrics, health] = await Promise.all([get(`${base}/metrics`), get(`${base}/healthz`)]);
      process.emit("SIGTERM");
      return { metrics: metrics.body, health: health.status };
    };
    const run = keeperRun(keeperArgs(f, { once: false, interval: 0.05, metricsPort: 0 }), hre, {
      sink: (line) => {
        const record = JSON.parse(line) as { event: string; url?: string };
        if (record.event === "metrics-listening") url = record.url;
        // After the first pass: scrape, then stop the loop as a supervisor would.
        if (record.event === "pass" && scraped === undefined && url !== undefined) scraped = scrape(url);
      },
    });
    const result = await run;
    expect(result).to.include({ failedPasses: 0 });
    const { metrics, health } = await (scraped as Promise<{ metrics: string; health: number }>);
    expect(health).to.equal(200);
    expect(sample(metrics, "ballast_keeper_vaults_known")).to.equal(4);
    let refused = false;
    await fetch(`${url as string}/healthz`).catch(() => (refused = true));
    expect(refused, "the server is closed after the loop").to.equal(true);
  });

  it("keeps the failure reasons' label set bounded", async () => {
    const f = await loadFixture(keeperFixture);
    const k = await served(f);
    try {
      for (let i = 0; i < 40; i++) k.metrics.failed(Object.assign(new Error("down"), { code: `CODE_${i}` }), 0.01);
      k.metrics.failed(new Error('Error("Too little received")'), 0.01);
      const text = (await get(`${k.server.url}/metrics`)).body;
      const reasons = text.split("\n").filter((l) => l.startsWith("ballast_keeper_failures_total{"));
      expect(reasons).to.have.length(33);
      expect(sample(text, "ballast_keeper_failures_total", 'stage="pass",reason="other"')).to.equal(9);
    } finally {
      await k.server.close();
    }
  });

  it("refuses a port in use in one line, before the loop starts", async () => {
    const f = await loadFixture(keeperFixture);
    const squatter = http.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      const message = await expectTaskError(
        "keeper:run",
        keeperArgs(f, { once: false, metricsPort: port }),
        /already in use/,
      );
      expect(message).to.equal(
        `--metrics-port ${port}: 127.0.0.1:${port} is already in use (another keeper?): stop what listens there, or pick another port`,
      );
    } finally {
      squatter.close();
    }
  });

  it("starts no server with --once, and says so", async () => {
    const f = await loadFixture(keeperFixture);
    const { output } = await runTask("keeper:run", keeperArgs(f, { metricsPort: 0 }));
    const events = parseLogLines(output.split("\n").filter((l) => l.startsWith("{"))).map((r) => r.event);
    expect(events).to.include("metrics-off");
    expect(events).to.not.include("metrics-listening");
  });

  it("takes the port from KEEPER_METRICS_PORT and binds to 127.0.0.1 unless told otherwise", () => {
    const args = resolveKeeperArgs({}, { KEEPER_METRICS_PORT: "9464" });
    expect(args).to.include({ metricsPort: 9464, metricsHost: "127.0.0.1" });
    expect(resolveKeeperArgs({}, { KEEPER_METRICS_HOST: "0.0.0.0" }).metricsHost).to.equal("0.0.0.0");
  });
});

describe("keeper /healthz", () => {
  const STALE = staleAfterMs(15_000, 90_000, 3);

  it("allows three intervals plus a transaction's deadline and its replacements", () => {
    expect(STALE).to.equal(405_000);
  });

  it("is healthy while starting, then stale when no pass finishes in time", () => {
    let now = 1_000_000;
    const health = new PassHealth({ staleAfterMs: STALE, clock: () => now });
    expect(health.report()).to.include({ status: "starting", healthy: true });
    now += STALE + 1_000;
    const report = health.report();
    expect(report).to.include({ status: "stale", healthy: false });
    expect(report.reason).to.equal(
      "no pass has finished in the 406s since the start, more than 405s: the loop is stuck (an RPC call that never returns?)",
    );
  });

  it("is ok after a pass, stale once it is too old, and failing after a failed pass until one succeeds", () => {
    let now = 1_000_000;
    const health = new PassHealth({ staleAfterMs: STALE, clock: () => now });
    health.passed(42);
    now += STALE;
    expect(health.report()).to.include({ status: "ok", healthy: true, block: 42 });
    now += 1_000;
    expect(health.report().reason).to.match(/^the last pass finished 406s ago, more than 405s: the loop is stuck/);
    health.failed({ error: "ECONNREFUSED", reason: "connect ECONNREFUSED 127.0.0.1:8545" });
    expect(health.report()).to.include({
      status: "failing",
      healthy: false,
      reason: "the last pass failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8545",
    });
    health.passed(43);
    expect(health.report()).to.include({ status: "ok", consecutiveFailures: 0, block: 43 });
  });
});
