/**
 * The simulated keepers at work during one price step. They read the vaults the engine predicts near or outside
 * their band (one `VaultLens.statuses` call) and decide with the keeper bot's rules (`lib/keeper`): cancel auctions no
 * longer needed (`decideVault`), kick, execute when `assessExecution` says a keeper profits, route each swap with the
 * bot's `Router` (offered the one WETH/USDC 0.05% pool), and group a keeper's due vaults with `batches` into
 * `executeBatch`es. Around those rules the simulation adds only latency, downtime (`downtime.ts`) and, under gas
 * stress, the base-fee path (`gas.ts`, set on chain by the clock): keepers then send EIP-1559 transactions with their
 * own max fee and tip, send nothing when the base fee is above their max fee (priced out), kick only when the best
 * reward covers the gas, and when several are due for the same auction in the same block the losers' transactions are
 * sent too, mined and reverted (`AuctionNotActive`), and their gas counted.
 *
 * Within the step, time moves from event to event (a kick's latency, an execution's profitable block, a keeper back
 * from an outage) on the 12-second block grid; nothing is planned past the step's end, where the price moves and
 * everything is read again. Before executing, a keeper asks the price guard what the vault will ask it
 * (`deleveragePrices` for a sale of collateral, `checkedPrices` for leverage): while it refuses, the rebalance would
 * revert, so the keeper waits.
 */
import {
  getAddress,
  MaxUint256,
  type ContractTransactionReceipt,
  type Interface,
  type Provider,
  type TransactionReceipt,
} from "ethers";

import {
  BallastVault__factory,
  type IBallastVault,
  type KeeperAuction,
  type PriceGuard,
  type VaultLens,
} from "../../typechain-types";
import {
  assessExecution,
  batches,
  decideVault,
  direction,
  type DecideRules,
  type Direction,
  type FeeView,
} from "../keeper/decide";
import { minedHash } from "../keeper/fees";
import { firstAcceptedHint, saleHints } from "../keeper/hints";
import type { RouteSource } from "../keeper/routing";
import type { BlockClock } from "./clock";
import { downSeconds, upFrom, type DowntimePlan } from "./downtime";
import {
  BLOCK_SECONDS,
  EXECUTION_GAS,
  keeperGasPrice,
  executorShare,
  kickPays,
  planExecution,
  planKick,
  type KeeperEnvironment,
  type KeeperProfile,
  type RewardCurve,
  type RunningAuction,
} from "./keepers";
import type { PolicyMetrics } from "./metrics";
import { keeperCandidate, observe, type TrackedVault } from "./tracking";

/** `IRebalanceExecutor.Direction`. */
export const DELEVERAGE = 1n;
export const LEVERAGE = 2n;
/** While the price guard refuses, keepers look again this much later. */
export const GUARD_RETRY_SECONDS = 5 * BLOCK_SECONDS;
/** Most vaults per `executeBatch`: at about 570,000 gas each, 20 fit the 2^24 per-transaction cap with room. */
export const MAX_BATCH = 20;
/**
 * The gas limit of a race loser's `execute`: the bot's 20% over the estimate it made before the winner's transaction
 * landed. The revert itself uses about 27,000 gas (one storage read, then `AuctionNotActive`).
 */
export const LOST_RACE_GAS_LIMIT = (EXECUTION_GAS * 12n) / 10n;
const WEI_PER_GWEI = 10n ** 9n;

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
  /** The keeper bot's router, offered the WETH/USDC 0.05% pool only. */
  router: RouteSource;
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
  /** Reads receipts (of race losers' reverted transactions). */
  provider: Provider;
  /** Gas stress: keepers pay the clock's base fee with their own max fee and tip. */
  gasStress?: boolean;
}

const WETH_UNIT = 10n ** 18n;
const USDC_UNIT = 10n ** 6n;

interface Due {
  vault: TrackedVault;
  profitBase: bigint;
}

export class KeeperFleet {
  private readonly auctionInterface: Interface;
  private readonly vaultInterface: Interface = BallastVault__factory.createInterface();
  private readonly rules: DecideRules;
  /** Chain time of the path's first point (downtime is drawn in seconds from it). */
  private pathStart = 0;
  /** Downtime stress: each keeper's outages on the path being replayed (seconds since its start). */
  private downtime?: DowntimePlan;
  /** The guard's answers by direction, for the block `guardBlock` (a timestamp): prices move only between blocks. */
  private readonly guardReads = new Map<Direction, boolean>();
  private guardBlock = -1;

  constructor(private readonly ctx: FleetContext) {
    this.auctionInterface = ctx.auctions[0].interface;
    this.rules = { minDebtBase: ctx.minDebtBase, cancel: true };
  }

  /**
   * A replay starts: the path's first point is at chain time `pathStart`, and the keepers are down as `downtime` says
   * (none without the stress); records each keeper's downtime.
   */
  begin(pathStart: number, spanSeconds: number, metrics: PolicyMetrics, downtime?: DowntimePlan): void {
    this.pathStart = pathStart;
    this.downtime = downtime;
    const plan = downtime;
    if (plan !== undefined) {
      metrics.downtime(
        this.ctx.keepers.map((_, k) => downSeconds(plan, k, spanSeconds)),
        plan.correlated,
      );
    }
  }

  /** The keepers' fees and availability now. */
  private env(): KeeperEnvironment {
    const base = this.ctx.clock.baseFee();
    const plan = this.downtime;
    return {
      fees: (k): FeeView | undefined =>
        this.ctx.gasStress === true && base !== undefined
          ? { baseFee: base, tip: this.ctx.keepers[k].tip, maxFee: this.ctx.keepers[k].maxFee }
          : undefined,
      upFrom: (k, t) => (plan === undefined ? t : this.pathStart + upFrom(plan, k, t - this.pathStart)),
    };
  }

  /** EIP-1559 fields of a keeper's transactions under gas stress; none otherwise (the node's defaults). */
  private overrides(fees: FeeView | undefined): { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint } {
    return fees === undefined ? {} : { maxFeePerGas: fees.maxFee, maxPriorityFeePerGas: fees.tip };
  }

  /** One step at WETH price `price` (8 decimals), from now until `end` (chain time). */
  async step(vaults: readonly TrackedVault[], price: bigint, end: number, metrics: PolicyMetrics): Promise<void> {
    const base = this.ctx.clock.baseFee();
    if (this.ctx.gasStress === true && base !== undefined) {
      metrics.baseFee(Number((base * 10n) / WEI_PER_GWEI) / 10);
    }
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
    const env = this.env();
    const gasStress = env.fees(0) !== undefined;
    // Priced-out transactions and unprofitable vaults are counted once per keeper (or vault) and step.
    const counted = new Set<string>();
    const once = (key: string): boolean => {
      if (counted.has(key)) return false;
      counted.add(key);
      return true;
    };
    const notePricedOut = (keepers: readonly number[], v: TrackedVault, what: string) => {
      for (const k of keepers) if (once(`${what}:${k}:${v.address}`)) metrics.pricedOut(k);
    };
    const noteUnprofitable = (v: TrackedVault, pricedOutCount: number) => {
      if (pricedOutCount < this.ctx.keepers.length && once(`u:${v.address}`)) metrics.unprofitable(1);
    };

    await this.read(candidates, price, metrics, env);
    for (;;) {
      const now = await this.ctx.clock.latest();
      const next: number[] = [];
      for (const v of candidates) {
        if (v.need === undefined || v.auction !== undefined || v.outOfBand === undefined) continue;
        const action = decideVault(
          { needed: true, wanted: direction(v.need.direction), debtBase: v.need.debtBase, auctionRunning: false },
          this.rules,
        );
        if (action.kind !== "kick") continue;
        const view = this.auctionView(v, price);
        const plan = planKick(
          this.ctx.keepers,
          v.outOfBand,
          env,
          (k) => !gasStress || kickPays(this.ctx.keepers[k], this.ctx.curve, view, price, env.fees(k)),
        );
        notePricedOut(plan.pricedOut, v, "kick");
        if (plan.keeper === undefined) {
          noteUnprofitable(v, plan.pricedOut.length);
          continue;
        }
        if (plan.at <= now) await this.kick(v, plan.keeper, metrics, price, env.fees(plan.keeper));
        else next.push(plan.at);
      }
      const due = new Map<number, Due[]>();
      const losers: { keeper: number; vault: TrackedVault }[] = [];
      const nowAfterKicks = await this.ctx.clock.latest();
      for (const v of candidates) {
        if (v.need === undefined || v.auction === undefined || v.auction.direction !== v.need.direction) continue;
        const view = this.auctionView(v, price);
        const plan = planExecution(
          this.ctx.keepers,
          this.ctx.curve,
          { ...view, kickedAt: v.auction.kickedAt, kicker: v.auction.kicker, kickRefundBase: v.auction.kickRefundBase },
          nowAfterKicks,
          price,
          env,
        );
        notePricedOut(plan.pricedOut, v, "execute");
        if (plan.at === undefined) {
          noteUnprofitable(v, plan.pricedOut.length);
          continue;
        }
        const at = Math.max(plan.at, v.retryAt);
        if (at > nowAfterKicks) {
          next.push(at);
          continue;
        }
        const [winner, ...rest] = plan.order;
        const k = this.ctx.keepers[winner];
        const value = assessExecution({
          valueSoldBase: view.valueBase,
          rewardBps: BigInt(this.ctx.curve.bps(nowAfterKicks - v.auction.kickedAt, view.urgency, view.ownerCap)),
          ...executorShare(winner, this.ctx.curve.gasPart(k, env.fees(winner), price, view), {
            ...view,
            kicker: v.auction.kicker,
            kickRefundBase: v.auction.kickRefundBase,
          }),
          gas: EXECUTION_GAS,
          gasPrice: keeperGasPrice(k, env.fees(winner)),
          nativePriceBase: price,
          minProfitBase: k.minProfitBase,
        });
        due.set(winner, [...(due.get(winner) ?? []), { vault: v, profitBase: value.profitBase }]);
        for (const loser of rest) losers.push({ keeper: loser, vault: v });
      }
      let held = 0;
      for (const [keeper, list] of due) {
        const allowed: Due[] = [];
        for (const d of list) {
          if (await this.guardAllows(direction(d.vault.need?.direction ?? 0n))) allowed.push(d);
          else held++;
        }
        if (allowed.length > 0) due.set(keeper, allowed);
        else due.delete(keeper);
      }
      if (held > 0) {
        metrics.guardDelay(held);
        next.push(nowAfterKicks + GUARD_RETRY_SECONDS);
      }
      if (due.size > 0) {
        const paths = new Map<TrackedVault, string>();
        for (const [keeper, list] of [...due].sort(([a], [b]) => a - b)) {
          for (const group of batches(list, MAX_BATCH)) {
            const routed = await this.route(
              group.map((d) => d.vault),
              end,
              metrics,
            );
            for (const [v, path] of routed) paths.set(v, path);
            if (routed.size > 0) await this.execute(keeper, [...routed.keys()], paths, price, end, metrics, env);
          }
        }
        for (const { keeper, vault } of losers) {
          const path = paths.get(vault);
          // The winner's transaction rebalanced it: the loser's, in the same block, finds the auction gone.
          if (path !== undefined && vault.auction === undefined) {
            await this.loseRace(keeper, vault, path, price, metrics, env.fees(keeper));
          }
        }
      }
      const soonest = next.length === 0 ? undefined : Math.min(...next);
      if (soonest === undefined || soonest >= end) return;
      await this.ctx.advanceTo(soonest);
    }
  }

  /** What the keepers price an auction by: the value sold at the oracle, the urgency and the owner's caps. */
  private auctionView(v: TrackedVault, price: bigint): Omit<RunningAuction, "kickedAt"> {
    const need = v.need;
    return {
      valueBase: need === undefined ? 0n : this.valueSold(need.direction, need.amountIn, price),
      urgency: need?.urgency ?? 0n,
      ownerCap: Number(v.policy.maxKeeperRewardBps),
      maxGasPrice: v.policy.maxGasPrice,
      maxRewardBase: v.policy.maxRewardBase,
    };
  }

  /** Reads the candidates' statuses; cancels auctions no longer needed (or needed the other way). */
  private async read(
    candidates: readonly TrackedVault[],
    price: bigint,
    metrics: PolicyMetrics,
    env: KeeperEnvironment,
  ): Promise<void> {
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
      const action = decideVault(
        {
          needed: s.needed,
          wanted: direction(s.direction),
          debtBase: s.position.debtBase,
          auctionRunning: v.auction !== undefined,
          auctionDirection: v.auction === undefined ? undefined : direction(v.auction.direction),
        },
        this.rules,
      );
      if (!s.needed) {
        v.need = undefined;
        v.outOfBand = undefined;
        if (action.kind === "cancel") await this.cancel(v, metrics, price, env, now);
        continue;
      }
      if (action.kind === "cancel") {
        if (await this.cancel(v, metrics, price, env, now)) v.outOfBand = undefined;
      }
      v.outOfBand ??= now;
      v.need = { direction: s.direction, amountIn: s.amountIn, urgency: s.urgency, debtBase: s.position.debtBase };
    }
  }

  /**
   * The kicker cancels, or, when it is down or priced out, another keeper that can; nobody when none can (the
   * auction is left running and looked at again next step). True when the auction is gone.
   */
  private async cancel(
    v: TrackedVault,
    metrics: PolicyMetrics,
    price: bigint,
    env: KeeperEnvironment,
    now: number,
  ): Promise<boolean> {
    const kicker = v.auction?.kicker ?? 0;
    const order = [kicker, ...this.ctx.keepers.map((_, i) => i).filter((i) => i !== kicker)];
    const keeper = order.find((k) => {
      const fees = env.fees(k);
      return env.upFrom(k, now) === now && (fees === undefined || fees.maxFee >= fees.baseFee);
    });
    if (keeper === undefined) return false;
    const fees = env.fees(keeper);
    try {
      const receipt = await (await this.ctx.auctions[keeper].cancel(v.address, this.overrides(fees))).wait();
      if (receipt !== null) metrics.gas(keeper, receipt.gasUsed, price, fees && receipt.gasPrice);
      metrics.cancel(keeper);
    } catch (e) {
      metrics.failure(`cancel ${this.ctx.decoder.error(e)}`);
    }
    v.auction = undefined;
    return true;
  }

  private async kick(
    v: TrackedVault,
    keeper: number,
    metrics: PolicyMetrics,
    price: bigint,
    fees: FeeView | undefined,
  ): Promise<void> {
    const need = v.need;
    if (need === undefined) return;
    try {
      const receipt = await (await this.ctx.auctions[keeper].kick(v.address, this.overrides(fees))).wait();
      if (receipt !== null) metrics.gas(keeper, receipt.gasUsed, price, fees && receipt.gasPrice);
      metrics.kick(keeper);
      v.auction = {
        kickedAt: await this.ctx.clock.latest(),
        direction: need.direction,
        kicker: keeper,
        kickRefundBase: this.ctx.curve.kickRefund(this.ctx.keepers[keeper], fees, price, {
          maxGasPrice: v.policy.maxGasPrice,
          maxRewardBase: v.policy.maxRewardBase,
        }),
      };
    } catch (e) {
      metrics.failure(`kick ${this.ctx.decoder.error(e)}`);
      // Read again at the next step rather than retry a kick the vault refused.
      v.need = undefined;
    }
  }

  /**
   * Whether a rebalance that way would pass the price guard now: staleness, and the TWAP agreement the vault reads
   * for it (the short window, below only, for a sale of collateral; the long one for leverage). Read once a block.
   */
  private async guardAllows(way: Direction): Promise<boolean> {
    const block = await this.ctx.clock.latest();
    if (block !== this.guardBlock) {
      this.guardBlock = block;
      this.guardReads.clear();
    }
    const known = this.guardReads.get(way);
    if (known !== undefined) return known;
    const guard = this.ctx.priceGuard;
    const read = way === "leverage" ? guard.checkedPrices : guard.deleveragePrices;
    let ok = true;
    try {
      await read(this.ctx.weth, this.ctx.usdc);
    } catch {
      ok = false;
    }
    this.guardReads.set(way, ok);
    return ok;
  }

  /** Each vault's swap path from the router; a vault without a route waits for the next step. */
  private async route(
    vaults: readonly TrackedVault[],
    end: number,
    metrics: PolicyMetrics,
  ): Promise<Map<TrackedVault, string>> {
    const out = new Map<TrackedVault, string>();
    for (const v of vaults) {
      const need = v.need;
      if (need === undefined) continue;
      const [tokenIn, tokenOut] =
        need.direction === LEVERAGE ? [this.ctx.usdc, this.ctx.weth] : [this.ctx.weth, this.ctx.usdc];
      const choice = await this.ctx.router.route(tokenIn, tokenOut, need.amountIn);
      if (choice.best === undefined) {
        metrics.failure("execute no-route");
        v.retryAt = end;
        continue;
      }
      out.set(v, choice.best.path);
    }
    return out;
  }

  /** One keeper executes its due vaults: alone with `execute`, two or more with `executeBatch`. */
  private async execute(
    keeper: number,
    due: readonly TrackedVault[],
    paths: ReadonlyMap<TrackedVault, string>,
    price: bigint,
    end: number,
    metrics: PolicyMetrics,
    env: KeeperEnvironment,
  ): Promise<void> {
    const auction = this.ctx.auctions[keeper];
    const recipient = this.ctx.recipients[keeper];
    const fees = env.fees(keeper);
    let vaults = due;
    const pathOf = (v: TrackedVault): string => paths.get(v) ?? "0x";
    // As the bot does: the whole move, else a part of a deleverage that the pool is too thin for.
    const hintsOf = (v: TrackedVault): bigint[] =>
      v.need === undefined ? [MaxUint256] : saleHints(direction(v.need.direction), v.need.amountIn);
    const hints = new Map<TrackedVault, bigint>();
    if (vaults.length > 1) {
      // As the bot does (`keeper:run` estimates each call): a call that would fail is left out, not paid for in a
      // batch that catches its failure. A single `execute` is estimated by ethers before it is sent.
      const passing: TrackedVault[] = [];
      for (const v of vaults) {
        try {
          const { hint } = await firstAcceptedHint(hintsOf(v), (h) =>
            auction.execute.staticCall(v.address, pathOf(v), h, recipient, this.overrides(fees)),
          );
          hints.set(v, hint);
          passing.push(v);
        } catch (e) {
          metrics.failure(`execute ${this.ctx.decoder.error(e)}`);
          v.retryAt = end;
        }
      }
      if (passing.length === 0) return;
      vaults = passing;
    }
    let receipt: ContractTransactionReceipt | null;
    try {
      const one = vaults[0];
      const tx =
        vaults.length === 1
          ? (
              await firstAcceptedHint(hintsOf(one), (h) =>
                auction.execute(one.address, pathOf(one), h, recipient, this.overrides(fees)),
              )
            ).result
          : await auction.executeBatch(
              vaults.map((v) => ({ vault: v.address, path: pathOf(v), maxAmountIn: hints.get(v) ?? MaxUint256 })),
              recipient,
              this.overrides(fees),
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
    metrics.gas(keeper, receipt.gasUsed, price, fees && receipt.gasPrice);
    this.record(keeper, vaults, receipt, await this.ctx.clock.latest(), price, end, metrics);
  }

  /**
   * A race loser's transaction: the same `execute`, in the same block after the winner's, with an explicit gas limit
   * so that it is mined (and reverts `AuctionNotActive`) rather than refused at estimation; its gas is counted.
   */
  private async loseRace(
    keeper: number,
    v: TrackedVault,
    path: string,
    price: bigint,
    metrics: PolicyMetrics,
    fees: FeeView | undefined,
  ): Promise<void> {
    let hash: string | undefined;
    try {
      const tx = await this.ctx.auctions[keeper].execute(v.address, path, MaxUint256, this.ctx.recipients[keeper], {
        ...this.overrides(fees),
        gasLimit: LOST_RACE_GAS_LIMIT,
      });
      hash = tx.hash;
      await tx.wait();
    } catch (e) {
      hash ??= minedHash(e) ?? receiptHash(e);
      if (hash === undefined) {
        metrics.failure(`race ${this.ctx.decoder.error(e)}`);
        return;
      }
    }
    const receipt: TransactionReceipt | null = await this.ctx.provider.getTransactionReceipt(hash);
    if (receipt === null) return;
    metrics.lostRace(keeper, receipt.gasUsed, price, fees && receipt.gasPrice);
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
    /** What each vault's execution paid its kicker first (`KickRefunded`, before `Executed`), USDC. */
    const refunds = new Map<string, bigint>();
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
      if (parsed.name === "KickRefunded") {
        const kicker = this.ctx.recipients.findIndex((r) => getAddress(r) === getAddress(parsed.args.kicker as string));
        if (kicker >= 0) metrics.kickRefund(kicker, this.usdcValue(parsed.args.amount as bigint));
        refunds.set(getAddress(v.address), parsed.args.amount as bigint);
      } else if (parsed.name === "ExecutionFailed") {
        metrics.failure(`execute ${this.ctx.decoder.data(parsed.args.reason as string)}`);
        v.retryAt = end;
      } else if (parsed.name === "Executed") {
        const report = reports.get(getAddress(v.address));
        const direction = v.need?.direction ?? DELEVERAGE;
        metrics.rebalance({
          keeper,
          rewardBase: this.usdcValue((parsed.args.reward as bigint) - (refunds.get(getAddress(v.address)) ?? 0n)),
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

/** The hash in a `CALL_EXCEPTION`'s receipt (ethers' `wait()` on a mined revert). */
function receiptHash(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("receipt" in e)) return undefined;
  const receipt = (e as { receipt?: { hash?: unknown } }).receipt;
  return typeof receipt?.hash === "string" ? receipt.hash : undefined;
}
