/**
 * The simulated keepers at work during one price step. They read the vaults the engine predicts near or outside
 * their band (one `VaultLens.statuses` call), cancel auctions no longer needed, kick, and execute when `planExecution`
 * says a keeper profits, batching a keeper's due vaults with `executeBatch`. Within the step, time moves from event to
 * event (a kick's latency, an execution's profitable block) on the 12-second block grid; nothing is planned past the
 * step's end, where the price moves and everything is read again. Before executing, a keeper asks the price guard
 * (`checkedPrices`): while the TWAP lags the oracle beyond the bound every rebalance would revert, so it waits.
 */
import { getAddress, MaxUint256, type ContractTransactionReceipt, type Interface } from "ethers";

import {
  BallastVault__factory,
  type IBallastVault,
  type KeeperAuction,
  type PriceGuard,
  type VaultLens,
} from "../../typechain-types";
import type { BlockClock } from "./clock";
import { BLOCK_SECONDS, kickerOf, planExecution, type KeeperProfile, type RewardCurve } from "./keepers";
import type { PolicyMetrics } from "./metrics";
import { keeperCandidate, observe, type TrackedVault } from "./tracking";

/** `IRebalanceExecutor.Direction`. */
export const DELEVERAGE = 1n;
export const LEVERAGE = 2n;
/** While the price guard refuses, keepers look again this much later. */
export const GUARD_RETRY_SECONDS = 5 * BLOCK_SECONDS;
/** Most vaults per `executeBatch`: at about 570,000 gas each, 20 fit the 2^24 per-transaction cap with room. */
export const MAX_BATCH = 20;

/** Names a failure for the tally; the task plugs in the keeper bot's decoders. */
export interface FailureDecoder {
  /** Revert data, e.g. an `ExecutionFailed` reason. */
  data(revertData: string): string;
  /** A call or transaction that threw. */
  error(e: unknown): string;
}

/** Without the ABIs: the selector, or the first line of the message. */
export const RAW_DECODER: FailureDecoder = {
  data: (d) => (d.length >= 10 ? d.slice(0, 10) : "EmptyRevert"),
  error: (e) => (e instanceof Error ? e.message.split("\n")[0] : String(e)),
};

export interface FleetContext {
  lens: VaultLens;
  /** The auction, connected to each keeper's signer, in keeper order. */
  auctions: readonly KeeperAuction[];
  /** Each keeper's address, where its rewards go. */
  recipients: readonly string[];
  keepers: readonly KeeperProfile[];
  curve: RewardCurve;
  priceGuard: PriceGuard;
  weth: string;
  usdc: string;
  /** Single-hop paths through the WETH/USDC 0.05% pool, one per direction. */
  paths: { deleverage: string; leverage: string };
  /** USDC's oracle price (8 decimals). */
  usdcPrice: bigint;
  /** The auction's dust threshold: smaller positions are not kicked. */
  minDebtBase: bigint;
  clock: BlockClock;
  /** Moves the chain to a timestamp on the 12-second block grid. */
  advanceTo(time: number): Promise<void>;
  decoder: FailureDecoder;
  /** Wraps the lens reads, for the timing report. */
  timeLens<T>(read: () => Promise<T>): Promise<T>;
}

const WETH_UNIT = 10n ** 18n;
const USDC_UNIT = 10n ** 6n;

export class KeeperFleet {
  private readonly kicker: number;
  private readonly auctionInterface: Interface;
  private readonly vaultInterface: Interface = BallastVault__factory.createInterface();

  constructor(private readonly ctx: FleetContext) {
    this.kicker = kickerOf(ctx.keepers);
    this.auctionInterface = ctx.auctions[0].interface;
  }

  /** One step at WETH price `price` (8 decimals), from now until `end` (chain time). */
  async step(vaults: readonly TrackedVault[], price: bigint, end: number, metrics: PolicyMetrics): Promise<void> {
    const candidates: TrackedVault[] = [];
    for (const v of vaults) {
      if (keeperCandidate(v, price)) {
        candidates.push(v);
      } else {
        // Predicted back in band: forget the excursion, or a later one would inherit its start.
        v.need = undefined;
        v.outOfBand = undefined;
      }
    }
    if (candidates.length === 0) return;
    await this.read(candidates, price, metrics);
    const latency = this.ctx.keepers[this.kicker].latency;
    for (;;) {
      const now = await this.ctx.clock.latest();
      const next: number[] = [];
      for (const v of candidates) {
        if (v.need === undefined || v.auction !== undefined || v.outOfBand === undefined) continue;
        if (v.need.debtBase < this.ctx.minDebtBase) continue;
        const at = v.outOfBand + latency;
        if (at <= now) await this.kick(v, metrics, price);
        else next.push(at);
      }
      const due = new Map<number, TrackedVault[]>();
      const nowAfterKicks = await this.ctx.clock.latest();
      for (const v of candidates) {
        if (v.need === undefined || v.auction === undefined) continue;
        const plan = planExecution(
          this.ctx.keepers,
          this.ctx.curve,
          {
            kickedAt: v.auction.kickedAt,
            valueBase: this.valueSold(v.need.direction, v.need.amountIn, price),
            urgency: v.need.urgency,
            ownerCap: Number(v.policy.maxKeeperRewardBps),
          },
          nowAfterKicks,
          price,
        );
        if (plan === undefined) continue;
        const at = Math.max(plan.at, v.retryAt);
        if (at <= nowAfterKicks) due.set(plan.keeper, [...(due.get(plan.keeper) ?? []), v]);
        else next.push(at);
      }
      if (due.size > 0) {
        if (await this.guardAllows()) {
          for (const [keeper, list] of [...due].sort(([a], [b]) => a - b)) {
            for (let i = 0; i < list.length; i += MAX_BATCH) {
              await this.execute(keeper, list.slice(i, i + MAX_BATCH), price, end, metrics);
            }
          }
        } else {
          metrics.guardDelay([...due.values()].reduce((n, l) => n + l.length, 0));
          next.push(nowAfterKicks + GUARD_RETRY_SECONDS);
        }
      }
      const soonest = next.length === 0 ? undefined : Math.min(...next);
      if (soonest === undefined || soonest >= end) return;
      await this.ctx.advanceTo(soonest);
    }
  }

  /** Reads the candidates' statuses; cancels auctions no longer needed (or needed the other way). */
  private async read(candidates: readonly TrackedVault[], price: bigint, metrics: PolicyMetrics): Promise<void> {
    const statuses = await this.ctx.timeLens(() => this.ctx.lens.statuses(candidates.map((v) => v.address)));
    const now = await this.ctx.clock.latest();
    for (let i = 0; i < candidates.length; i++) {
      const v = candidates[i];
      const s = statuses[i];
      if (!s.ok) {
        v.need = undefined;
        continue;
      }
      observe(v, s.position.healthFactor, price);
      if (!s.needed) {
        v.need = undefined;
        v.outOfBand = undefined;
        if (v.auction !== undefined) await this.cancel(v, metrics, price);
        continue;
      }
      if (v.auction !== undefined && v.auction.direction !== s.direction) {
        await this.cancel(v, metrics, price);
        v.outOfBand = undefined;
      }
      v.outOfBand ??= now;
      v.need = { direction: s.direction, amountIn: s.amountIn, urgency: s.urgency, debtBase: s.position.debtBase };
    }
  }

  private async cancel(v: TrackedVault, metrics: PolicyMetrics, price: bigint): Promise<void> {
    const keeper = v.auction?.kicker ?? this.kicker;
    try {
      const receipt = await (await this.ctx.auctions[keeper].cancel(v.address)).wait();
      if (receipt !== null) metrics.gas(keeper, receipt.gasUsed, price);
      metrics.cancel(keeper);
    } catch (e) {
      metrics.failure(`cancel ${this.ctx.decoder.error(e)}`);
    }
    v.auction = undefined;
  }

  private async kick(v: TrackedVault, metrics: PolicyMetrics, price: bigint): Promise<void> {
    const need = v.need;
    if (need === undefined) return;
    try {
      const receipt = await (await this.ctx.auctions[this.kicker].kick(v.address)).wait();
      if (receipt !== null) metrics.gas(this.kicker, receipt.gasUsed, price);
      metrics.kick(this.kicker);
      v.auction = { kickedAt: await this.ctx.clock.latest(), direction: need.direction, kicker: this.kicker };
    } catch (e) {
      metrics.failure(`kick ${this.ctx.decoder.error(e)}`);
      // Read again at the next step rather than retry a kick the vault refused.
      v.need = undefined;
    }
  }

  /** Whether a rebalance would pass the price guard now (staleness and TWAP deviation). */
  private async guardAllows(): Promise<boolean> {
    try {
      await this.ctx.priceGuard.checkedPrices(this.ctx.weth, this.ctx.usdc);
      return true;
    } catch {
      return false;
    }
  }

  /** One keeper executes its due vaults: alone with `execute`, two or more with `executeBatch`. */
  private async execute(
    keeper: number,
    vaults: readonly TrackedVault[],
    price: bigint,
    end: number,
    metrics: PolicyMetrics,
  ): Promise<void> {
    const auction = this.ctx.auctions[keeper];
    const recipient = this.ctx.recipients[keeper];
    const pathOf = (v: TrackedVault) =>
      v.need?.direction === LEVERAGE ? this.ctx.paths.leverage : this.ctx.paths.deleverage;
    let receipt: ContractTransactionReceipt | null;
    try {
      const tx =
        vaults.length === 1
          ? await auction.execute(vaults[0].address, pathOf(vaults[0]), MaxUint256, recipient)
          : await auction.executeBatch(
              vaults.map((v) => ({ vault: v.address, path: pathOf(v), maxAmountIn: MaxUint256 })),
              recipient,
            );
      receipt = await tx.wait();
    } catch (e) {
      const reason = this.ctx.decoder.error(e);
      for (const v of vaults) {
        metrics.failure(`execute ${reason}`);
        v.retryAt = end;
      }
      return;
    }
    if (receipt === null) return;
    metrics.gas(keeper, receipt.gasUsed, price);
    this.record(keeper, vaults, receipt, await this.ctx.clock.latest(), price, end, metrics);
  }

  /** Reads `Executed`, `ExecutionFailed` and the vaults' `Rebalanced` reports from an execution's receipt. */
  private record(
    keeper: number,
    vaults: readonly TrackedVault[],
    receipt: ContractTransactionReceipt,
    minedAt: number,
    price: bigint,
    end: number,
    metrics: PolicyMetrics,
  ): void {
    const byAddress = new Map(vaults.map((v) => [getAddress(v.address), v]));
    const auctionAddress = getAddress(String(this.ctx.auctions[keeper].target));
    const reports = new Map<string, IBallastVault.RebalanceReportStructOutput>();
    for (const log of receipt.logs) {
      const address = getAddress(log.address);
      if (byAddress.has(address)) {
        const parsed = this.vaultInterface.parseLog(log);
        if (parsed?.name === "Rebalanced") {
          reports.set(address, parsed.args.report as IBallastVault.RebalanceReportStructOutput);
        }
        continue;
      }
      if (address !== auctionAddress) continue;
      const parsed = this.auctionInterface.parseLog(log);
      const v = parsed === null ? undefined : byAddress.get(getAddress(parsed.args.vault as string));
      if (parsed === null || v === undefined) continue;
      if (parsed.name === "ExecutionFailed") {
        metrics.failure(`execute ${this.ctx.decoder.data(parsed.args.reason as string)}`);
        v.retryAt = end;
      } else if (parsed.name === "Executed") {
        const report = reports.get(getAddress(v.address));
        const direction = v.need?.direction ?? DELEVERAGE;
        metrics.rebalance({
          keeper,
          rewardBase: this.usdcValue(parsed.args.reward as bigint),
          equityLossBase: report?.equityLossBase ?? 0n,
          shortfallBase: report?.swapShortfallBase ?? 0n,
          valueSoldBase: report === undefined ? 1n : this.valueSold(direction, report.amountIn, price),
          responseSeconds: minedAt - (v.outOfBand ?? minedAt),
        });
        observe(v, parsed.args.hfAfter as bigint, price);
        v.need = undefined;
        v.auction = undefined;
        v.outOfBand = undefined;
      }
    }
    // A vault the receipt says nothing about is left for the next step rather than sent again at once.
    for (const v of vaults) if (v.auction !== undefined) v.retryAt = Math.max(v.retryAt, end);
  }

  /** Oracle value (base units) of what a rebalance sells: WETH when deleveraging, USDC when leveraging. */
  private valueSold(direction: bigint, amount: bigint, price: bigint): bigint {
    return direction === LEVERAGE ? this.usdcValue(amount) : (amount * price) / WETH_UNIT;
  }

  private usdcValue(amount: bigint): bigint {
    return (amount * this.ctx.usdcPrice) / USDC_UNIT;
  }
}
