/**
 * What one policy's run measured. Amounts are kept exact (bigint, oracle base units) while the run goes and turned
 * into plain numbers once at the end: USD truncated to cents, HFs to 4 decimals, bps to 2, so that a result is the
 * same bytes for the same run.
 */
import type { PolicyValues } from "../protocol";
import type { HealthPoint } from "./chart";
import { BLOCK_SECONDS, type KeeperProfile } from "./keepers";
import type { MarketStressReport } from "./market";

const WAD = 10n ** 18n;

export interface KeeperTally {
  kicks: number;
  cancels: number;
  /** Vaults it rebalanced. */
  executions: number;
  rewardsUsd: number;
  /** Gas of all its transactions: kicks, cancels, executions. */
  gasUsed: number;
  /** That gas at its own gas price (under gas stress: the effective price it paid) and the WETH price of the moment. */
  gasCostUsd: number;
  /** Transactions it did not send because its max fee was below the base fee (gas stress). */
  pricedOut: number;
  /** Executions it sent that another keeper's transaction beat in the same block, and their gas (in `gasUsed` too). */
  lostRaces: number;
  lostRaceGasUsed: number;
  /** Seconds it was down over the path (downtime stress), the correlated outage included. */
  downtimeSeconds: number;
}

export interface Band {
  minHF: number;
  targetHF: number;
  maxHF: number;
}

export interface PolicyResult {
  /** The band keepers work to; null for `static`, whose automation is paused. */
  band: Band | null;
  /** Vaults liquidated at least once, and `liquidationCall`s made. */
  liquidations: number;
  liquidationCalls: number;
  /** Oracle value of the collateral seized less the debt repaid, summed. */
  liquidationPenaltyUsd: number;
  /** Collateral less debt of all vaults at the oracle price, after opening and at the end. */
  equityStartUsd: number;
  equityEndUsd: number;
  equityChangePct: number;
  rebalances: number;
  /**
   * What the rebalances cost the owners: the equity each lost by its own report (swap shortfall, flash premium and
   * keeper reward), summed. To set against the liquidation penalty.
   */
  rebalanceCostUsd: number;
  keeperRewardsUsd: number;
  /** Gas of every keeper transaction (kicks, cancels, executions). */
  gasUsed: number;
  keeperGasCostUsd: number;
  /** Swap shortfall against the oracle over the value sold, per rebalance; null without rebalances. */
  slippageMeanBps: number | null;
  slippageWorstBps: number | null;
  /** Lowest HF of any vault at any step (predicted from its last read, at each step's price). */
  worstHF: number;
  /**
   * 12-second blocks (chain seconds / 12, rounded up) from the step a vault was first seen out of band to its
   * rebalance; null without rebalances.
   */
  responseBlocksMean: number | null;
  responseBlocksWorst: number | null;
  kicks: number;
  cancels: number;
  /** Keeper transactions (or calls of a batch) that reverted, by stage and decoded error: "execute VaultTargetMissed". */
  failures: Record<string, number>;
  /** Times an execution was due but the price guard refused (the TWAP had not caught up), per vault. */
  guardDelays: number;
  /** Vaults still out of band when the path ended. */
  outOfBandAtEnd: number;
  /** Keeper transactions not sent because the base fee was above the keeper's max fee (gas stress). */
  pricedOut: number;
  /** Execution transactions that lost a same-block race (mined, reverted `AuctionNotActive`), their gas and its cost. */
  lostRaces: number;
  lostRaceGasUsed: number;
  lostRaceGasCostUsd: number;
  /**
   * Vault-steps where a vault needed a kick or an execution and no keeper's rule said it pays (gas stress: a kick is
   * sent only when the best reward covers the gas), e.g. because the owner's reward cap is below the gas.
   */
  unprofitable: number;
  /** Base fee over the steps, gwei (gas stress); null without it. */
  baseFeeGweiMean: number | null;
  baseFeeGweiMax: number | null;
  /** Downtime stress: whether every keeper was down together in the worst hour; null without downtime stress. */
  correlatedOutage: boolean | null;
  keepers: Record<string, KeeperTally>;
  /** What the market stresses did (oracle rounds, depth, arbitrage, sales): lib/simulation/market/index.ts. */
  market: MarketStressReport | null;
}

interface Tally {
  kicks: number;
  cancels: number;
  executions: number;
  rewardsBase: bigint;
  gasUsed: bigint;
  gasCostBase: bigint;
  pricedOut: number;
  lostRaces: number;
  lostRaceGasUsed: bigint;
  lostRaceGasCostBase: bigint;
  downtimeSeconds: number;
}

export interface RebalanceRecord {
  keeper: number;
  rewardBase: bigint;
  /** The report's `equityLossBase`. */
  equityLossBase: bigint;
  shortfallBase: bigint;
  valueSoldBase: bigint;
  /** Chain seconds from the step the vault was first seen out of band to the block that rebalanced it. */
  responseSeconds: number;
}

/** Base units (8 decimals) to dollars, truncated to the cent. */
export const usd = (base: bigint): number => Number(base / 1_000_000n) / 100;
/** `x` rounded to `places` decimals. */
export const round = (x: number, places: number): number => Math.round(x * 10 ** places) / 10 ** places;
const hf2 = (wad: bigint): number => Number(wad / 10n ** 16n) / 100;

export class PolicyMetrics {
  equityStartBase = 0n;
  equityEndBase = 0n;
  /** Set by the engine at the end of the replay. */
  market: MarketStressReport | null = null;
  readonly series: HealthPoint[] = [];
  private readonly liquidated = new Set<number>();
  private liquidationCalls = 0;
  private penaltyBase = 0n;
  private costBase = 0n;
  private readonly slippages: number[] = [];
  private readonly responses: number[] = [];
  private worstHF = Infinity;
  private guardDelays = 0;
  private readonly failures = new Map<string, number>();
  private readonly tallies: Tally[];
  private unprofitableSteps = 0;
  private readonly baseFees: number[] = [];
  private correlated: boolean | null = null;

  constructor(
    readonly policy: string,
    private readonly keepers: readonly KeeperProfile[],
  ) {
    this.tallies = keepers.map(() => ({
      kicks: 0,
      cancels: 0,
      executions: 0,
      rewardsBase: 0n,
      gasUsed: 0n,
      gasCostBase: 0n,
      pricedOut: 0,
      lostRaces: 0,
      lostRaceGasUsed: 0n,
      lostRaceGasCostBase: 0n,
      downtimeSeconds: 0,
    }));
  }

  /** The HFs of every vault at a step (unix seconds of the path): the worst goes to the chart and the minimum. */
  step(t: number, hfs: readonly number[]): void {
    const finite = hfs.filter((h) => Number.isFinite(h));
    if (finite.length === 0) return;
    const worst = Math.min(...finite);
    this.worstHF = Math.min(this.worstHF, worst);
    this.series.push({ policy: this.policy, t, hf: worst });
  }

  liquidation(vaultIndex: number, calls: number, penaltyBase: bigint): void {
    this.liquidated.add(vaultIndex);
    this.liquidationCalls += calls;
    this.penaltyBase += penaltyBase;
  }

  rebalance(r: RebalanceRecord): void {
    const t = this.tallies[r.keeper];
    t.executions++;
    t.rewardsBase += r.rewardBase;
    this.costBase += r.equityLossBase;
    // Hundredths of a bp, exact, then a number.
    this.slippages.push(Number((r.shortfallBase * 1_000_000n) / r.valueSoldBase) / 100);
    // In 12-second blocks: the world's own price and oracle transactions mine extra one-second blocks in between,
    // which a real chain would not have, so the chain's block count would overstate the wait.
    this.responses.push(Math.ceil(r.responseSeconds / BLOCK_SECONDS));
  }

  /** A kicker refunded its kick's gas out of another keeper's execution (`KickRefunded`), base units. */
  kickRefund(kicker: number, rewardBase: bigint): void {
    this.tallies[kicker].rewardsBase += rewardBase;
  }

  /**
   * A keeper transaction's gas, valued at the WETH price (8 decimals) and the keeper's gas price, or under gas stress
   * the effective gas price it paid (the receipt's).
   */
  gas(keeper: number, gasUsed: bigint, ethPrice: bigint, gasPrice?: bigint): bigint {
    const t = this.tallies[keeper];
    const cost = (gasUsed * (gasPrice ?? this.keepers[keeper].gasPrice) * ethPrice) / WAD;
    t.gasUsed += gasUsed;
    t.gasCostBase += cost;
    return cost;
  }

  /** A lost race: the loser's mined, reverted transaction; its gas counts as gas too. */
  lostRace(keeper: number, gasUsed: bigint, ethPrice: bigint, gasPrice?: bigint): void {
    const t = this.tallies[keeper];
    t.lostRaces++;
    t.lostRaceGasUsed += gasUsed;
    t.lostRaceGasCostBase += this.gas(keeper, gasUsed, ethPrice, gasPrice);
  }

  /** A transaction the keeper did not send: its max fee was below the base fee. */
  pricedOut(keeper: number): void {
    this.tallies[keeper].pricedOut++;
  }

  /** Vaults that needed a keeper at a step and no keeper's rule said it pays. */
  unprofitable(vaults: number): void {
    this.unprofitableSteps += vaults;
  }

  /** The base fee of a step, gwei (gas stress). */
  baseFee(gwei: number): void {
    this.baseFees.push(gwei);
  }

  /** Downtime stress: each keeper's seconds down, and whether the correlated outage was on. */
  downtime(seconds: readonly number[], correlated: boolean): void {
    seconds.forEach((x, i) => (this.tallies[i].downtimeSeconds = x));
    this.correlated = correlated;
  }

  kick(keeper: number): void {
    this.tallies[keeper].kicks++;
  }

  cancel(keeper: number): void {
    this.tallies[keeper].cancels++;
  }

  failure(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  guardDelay(vaults: number): void {
    this.guardDelays += vaults;
  }

  result(policy: PolicyValues | undefined, outOfBandAtEnd: number): PolicyResult {
    const count = (key: "kicks" | "cancels" | "executions"): number => this.tallies.reduce((a, t) => a + t[key], 0);
    const total = (
      key: "rewardsBase" | "gasUsed" | "gasCostBase" | "lostRaceGasUsed" | "lostRaceGasCostBase",
    ): bigint => this.tallies.reduce((a, t) => a + t[key], 0n);
    const mean = (xs: readonly number[]): number | null =>
      xs.length === 0 ? null : round(xs.reduce((a, b) => a + b, 0) / xs.length, 2);
    const worst = (xs: readonly number[]): number | null => (xs.length === 0 ? null : Math.max(...xs));
    const start = this.equityStartBase;
    const change = start === 0n ? 0 : Number(((this.equityEndBase - start) * 10_000n) / start) / 100;
    return {
      band:
        policy === undefined
          ? null
          : { minHF: hf2(policy.minHF), targetHF: hf2(policy.targetHF), maxHF: hf2(policy.maxHF) },
      liquidations: this.liquidated.size,
      liquidationCalls: this.liquidationCalls,
      liquidationPenaltyUsd: usd(this.penaltyBase),
      equityStartUsd: usd(start),
      equityEndUsd: usd(this.equityEndBase),
      equityChangePct: change,
      rebalances: count("executions"),
      rebalanceCostUsd: usd(this.costBase),
      keeperRewardsUsd: usd(total("rewardsBase")),
      gasUsed: Number(total("gasUsed")),
      keeperGasCostUsd: usd(total("gasCostBase")),
      slippageMeanBps: mean(this.slippages),
      slippageWorstBps: worst(this.slippages),
      worstHF: Number.isFinite(this.worstHF) ? Math.floor(this.worstHF * 10_000) / 10_000 : 0,
      responseBlocksMean: mean(this.responses),
      responseBlocksWorst: worst(this.responses),
      kicks: count("kicks"),
      cancels: count("cancels"),
      failures: Object.fromEntries([...this.failures].sort(([a], [b]) => a.localeCompare(b))),
      guardDelays: this.guardDelays,
      outOfBandAtEnd,
      pricedOut: this.tallies.reduce((a, t) => a + t.pricedOut, 0),
      lostRaces: this.tallies.reduce((a, t) => a + t.lostRaces, 0),
      lostRaceGasUsed: Number(total("lostRaceGasUsed")),
      lostRaceGasCostUsd: usd(total("lostRaceGasCostBase")),
      unprofitable: this.unprofitableSteps,
      baseFeeGweiMean: mean(this.baseFees),
      baseFeeGweiMax: worst(this.baseFees),
      correlatedOutage: this.correlated,
      keepers: Object.fromEntries(
        this.tallies.map((t, i) => [
          this.keepers[i].name,
          {
            kicks: t.kicks,
            cancels: t.cancels,
            executions: t.executions,
            rewardsUsd: usd(t.rewardsBase),
            gasUsed: Number(t.gasUsed),
            gasCostUsd: usd(t.gasCostBase),
            pricedOut: t.pricedOut,
            lostRaces: t.lostRaces,
            lostRaceGasUsed: Number(t.lostRaceGasUsed),
            downtimeSeconds: t.downtimeSeconds,
          },
        ]),
      ),
      market: this.market,
    };
  }
}
