/**
 * The keeper's Prometheus metrics, `ballast_keeper_*`, fed by the loop after each pass from what the pass returned
 * (its `PassSummary`) and from the receipts of the transactions it sent. Each bot has a registry of its own, so that
 * several bots in one process (the tests) do not count into each other. See the README's "Running a keeper on mainnet"
 * for what each metric means.
 */
import { formatEther, formatUnits, getAddress, type Provider } from "ethers";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

import { BallastVault__factory } from "../../typechain-types";
import type { KeeperLog } from "./log";
import type { PassObserver } from "./loop";
import { describeFailure } from "./tx";
import type { PassSummary } from "./types";
import type { Valuer } from "./value";
import { PassHealth, type HealthOptions } from "./health";

export const METRICS_PREFIX = "ballast_keeper_";

/** Distinct `reason` labels kept; the rest count as `other`, so that odd revert strings cannot grow the series. */
const MAX_REASONS = 32;

/** Seconds: from a pass that only reads (well under a second locally) to one waiting out replaced transactions. */
const PASS_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface KeeperMetricsOptions extends HealthOptions {
  /** Reads the receipts (gas spent) and the executed vaults' debt assets (rewards). */
  provider: Provider;
  /** Symbols and decimals of the reward tokens. */
  tokens: Valuer;
  log: KeeperLog;
  /** Also the process's own metrics (CPU, memory, event loop lag, GC), prefixed. */
  processMetrics?: boolean;
}

export class KeeperMetrics implements PassObserver {
  readonly registry = new Registry();
  readonly health: PassHealth;
  private readonly provider: Provider;
  private readonly tokens: Valuer;
  private readonly log: KeeperLog;
  private readonly debtAssets = new Map<string, string>();
  private readonly reasons = new Set<string>();

  private readonly passes: Counter<"outcome">;
  private readonly kicks: Counter;
  private readonly executions: Counter<"batched">;
  private readonly cancels: Counter;
  private readonly lostRaces: Counter<"action">;
  private readonly failures: Counter<"stage" | "reason">;
  private readonly skipped: Counter<"reason">;
  private readonly rewards: Counter<"token">;
  private readonly gasSpent: Counter;
  private readonly lastBlock: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly vaults: Gauge;
  private readonly outOfBand: Gauge;
  private readonly vaultsRead: Gauge;
  private readonly sweeps: Counter;
  private readonly duration: Histogram;

  constructor(options: KeeperMetricsOptions) {
    this.provider = options.provider;
    this.tokens = options.tokens;
    this.log = options.log;
    this.health = new PassHealth(options);
    const registers = [this.registry];
    const name = (n: string) => `${METRICS_PREFIX}${n}`;
    const counter = <L extends string = never>(n: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name: name(n), help, labelNames, registers });
    const gauge = (n: string, help: string) => new Gauge({ name: name(n), help, registers });
    this.passes = counter(
      "passes_total",
      "Passes finished, by outcome: ok, or failed (an RPC error; the loop goes on)",
      ["outcome"],
    );
    this.kicks = counter("kicks_total", "Auctions this keeper kicked");
    this.executions = counter(
      "executions_total",
      "Vaults this keeper rebalanced (an Executed event), alone or in an executeBatch",
      ["batched"],
    );
    this.cancels = counter("cancels_total", "Auctions this keeper cancelled (vault back in band)");
    this.lostRaces = counter(
      "lost_races_total",
      "Races lost to another keeper: an execution whose auction was gone, a kick of an auction already running",
      ["action"],
    );
    this.failures = counter(
      "failures_total",
      "Failures by stage (status, kick, cancel, simulate, execute, disable-collateral, or pass for a whole pass) and reason (the decoded error's name)",
      ["stage", "reason"],
    );
    this.skipped = counter(
      "skipped_total",
      "Vaults a pass left alone, by reason (dust, no-reward, no-route, unprofitable, gas-price, spend-cap)",
      ["reason"],
    );
    this.rewards = counter(
      "rewards_total",
      "Rewards the auction paid for this keeper's executions (Executed events), in whole units of the token paid (the vault's debt asset)",
      ["token"],
    );
    this.gasSpent = counter(
      "gas_spent_eth_total",
      "ETH this keeper paid for gas: gasUsed x effectiveGasPrice of its mined transactions, reverted ones included",
    );
    this.lastBlock = gauge("last_block", "Block the last successful pass read");
    this.lastSuccess = gauge("last_success_timestamp_seconds", "Unix time the last successful pass finished");
    this.vaults = gauge("vaults_known", "Vaults the bot knows of");
    this.outOfBand = gauge("vaults_out_of_band", "Vaults whose status said a rebalance was needed, at the last pass");
    this.vaultsRead = gauge("vaults_read", "Vaults whose status the last pass read with the lens (the index's picks)");
    this.sweeps = counter(
      "sweeps_total",
      "Passes that read every vault and rebuilt the trigger-price index (none with --no-index)",
    );
    this.duration = new Histogram({
      name: name("pass_duration_seconds"),
      help: "Wall time of a pass, failed ones included",
      buckets: PASS_DURATION_BUCKETS,
      registers,
    });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
  }

  async passed(summary: PassSummary, seconds: number): Promise<void> {
    this.health.passed(summary.block);
    this.passes.inc({ outcome: "ok" });
    this.duration.observe(seconds);
    this.lastBlock.set(summary.block);
    this.lastSuccess.set(this.health.now() / 1000);
    this.vaults.set(summary.vaults);
    this.outOfBand.set(summary.outOfBand);
    this.vaultsRead.set(summary.read);
    if (summary.sweep) this.sweeps.inc();
    this.kicks.inc(summary.kicked.length);
    this.cancels.inc(summary.cancelled.length);
    this.lostRaces.inc({ action: "execute" }, summary.lostRaces.length);
    this.lostRaces.inc({ action: "kick" }, summary.kickRaces.length);
    for (const e of summary.executed) this.executions.inc({ batched: String(e.batched) });
    for (const f of summary.failed) this.failures.inc({ stage: f.stage, reason: this.reason(f.error) });
    for (const s of summary.skipped) this.skipped.inc({ reason: s.reason });
    // The chain reads come last: a failure there leaves the counts above right and is only logged.
    try {
      await this.countRewards(summary);
      await this.countGas(summary.transactions);
    } catch (e) {
      this.log.warn("metrics-read-failed", {
        ...describeFailure(e),
        reason: "rewards or gas of this pass not counted",
      });
    }
  }

  failed(error: unknown, seconds: number): void {
    const failure = describeFailure(error);
    this.health.failed(failure);
    this.passes.inc({ outcome: "failed" });
    this.duration.observe(seconds);
    this.failures.inc({ stage: "pass", reason: this.reason(failure.error) });
  }

  /** The error's leading name (`Error("Too little received")` → `Error`), or `other` past `MAX_REASONS` of them. */
  private reason(error: string): string {
    const name = /^[A-Za-z_][A-Za-z0-9_]{0,63}/.exec(error)?.[0] ?? "other";
    if (this.reasons.has(name)) return name;
    if (this.reasons.size >= MAX_REASONS) return "other";
    this.reasons.add(name);
    return name;
  }

  private async countRewards(summary: PassSummary): Promise<void> {
    for (const e of summary.executed) {
      const token = await this.debtAsset(e.vault);
      const [symbol, decimals] = await Promise.all([this.tokens.symbol(token), this.tokens.tokenDecimals(token)]);
      this.rewards.inc({ token: symbol }, Number(formatUnits(e.reward, decimals)));
    }
  }

  /** Replaced transactions' other hashes have no receipt; one still unmined is not counted (nor later). */
  private async countGas(hashes: readonly string[]): Promise<void> {
    const receipts = await Promise.all(hashes.map((h) => this.provider.getTransactionReceipt(h)));
    const wei = receipts.reduce((sum, r) => sum + (r?.fee ?? 0n), 0n);
    if (wei > 0n) this.gasSpent.inc(Number(formatEther(wei)));
  }

  private async debtAsset(vault: string): Promise<string> {
    let token = this.debtAssets.get(vault);
    if (token === undefined) {
      token = getAddress(await BallastVault__factory.connect(vault, this.provider).debtAsset());
      this.debtAssets.set(vault, token);
    }
    return token;
  }
}
