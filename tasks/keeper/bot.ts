/**
 * The keeper bot. One pass: discover vaults from the factory's `VaultCreated` events, read the status of the vaults the
 * trigger-price index picks (watch.ts; every vault with `--no-index`) with the lens, kick the auctions of vaults out of band, cancel those of vaults back in band, and execute the auctions that
 * pay more than the gas they cost, alone or in batches. A vault whose execution fails on Aave's LTV check because of
 * foreign zero-LTV collateral (finding R1) has that collateral disabled, so that the next pass can execute it. `plan()` reads and decides, `act()` sends; `pass()` is both.
 */
import {
  getAddress,
  type ContractTransaction,
  type LogDescription,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from "ethers";

import { BallastVault__factory } from "../../typechain-types";
import type {
  IAaveOracle,
  IPriceGuard,
  IUniswapV3Factory,
  IVaultLens,
  KeeperAuction,
  QuoterV2,
  VaultFactory,
} from "../../typechain-types";
import { AAVE_LTV_VALIDATION_FAILED, foreignCollateral } from "../../lib/keeper/collateral";
import { assessExecution, batches, decideVault, type Direction } from "../../lib/keeper/decide";
import { firstAcceptedHint, saleHints } from "../../lib/keeper/hints";
import * as fmt from "../shared/format";
import type { KeeperLog } from "./log";
import type { Transport } from "./private";
import { describeRoute, guardRoutes, Router } from "./routing";
import {
  decodeReason,
  describeFailure,
  minedHash,
  readFees,
  SpendCapReached,
  TxSender,
  type Failure,
  type FeeOverrides,
  type Fees,
  type SentTx,
  type TxRequest,
} from "./tx";
import {
  direction,
  emptySummary,
  type CollateralDisable,
  type Execution,
  type ExecutedVault,
  type Kick,
  type PassPlan,
  type PassSummary,
} from "./types";
import { Valuer } from "./value";
import type { VaultStatus, VaultWatch } from "./watch";

/**
 * Gas limit margins: a single execution gets 20% over its `estimateGas`; a batch 40% over the sum of its calls' own
 * estimates, which the pass has made anyway. `executeBatch` fails as a whole (`AuctionBatchOutOfGas`) when a call
 * fails having used over three quarters of the gas left to it, since that is how running out of gas deep in a call
 * looks; 40% (above 4/3) leaves a call that fails late on its own merits (a swap's minimum output, say) reported and
 * skipped rather than taking the batch down with it.
 */
const SINGLE_GAS_MARGIN = [12n, 10n] as const;
const BATCH_GAS_MARGIN = [140n, 100n] as const;
const BATCH_GAS_OVERHEAD = 60_000n;

export interface KeeperContracts {
  factory: VaultFactory;
  lens: IVaultLens;
  auction: KeeperAuction;
  quoter: QuoterV2;
  uniswapFactory: IUniswapV3Factory;
  oracle: IAaveOracle;
  /** The factory's price guard: its allowed routes are the only ones the bot proposes. */
  priceGuard: IPriceGuard;
}

export interface KeeperSettings {
  /**
   * First block searched for `VaultCreated` and `Kicked` events. Undefined: the first pass reads the factory's
   * registry through the lens at the latest block instead, and searches events only from the next one, so a (re)start
   * costs one lens page per `pageSize` vaults rather than `eth_getLogs` over the chain's whole history.
   */
  fromBlock?: number;
  /** Most blocks per `eth_getLogs` request. */
  blockRange: number;
  /** Vaults per `lens.statuses` call. */
  pageSize: number;
  /** Least profit (reward less gas), in oracle base units, for an execution to be sent. */
  minProfitBase: bigint;
  /** `--max-fee`: no transaction is sent while gas costs more than this, and none offers more, replacements included (wei). */
  maxFee?: bigint;
  /** `--priority-fee`: the tip offered (wei); else the node's suggestion. */
  priorityFee?: bigint;
  /** `--max-spend-per-pass`: the most one pass commits to gas, gas limit x fee ceiling of what it sends (wei). */
  maxSpendPerPass?: bigint;
  /** `--tx-timeout`: how long a transaction may stay unmined before it is replaced (ms). */
  txTimeoutMs: number;
  /** How often a receipt is polled for (ms); default a quarter of the timeout, at most 1 s. */
  pollMs?: number;
  /** Most vaults per `executeBatch`; 1 sends every execution alone. */
  batchSize: number;
  /** Cancel the auctions of vaults back in band. */
  cancel: boolean;
  /** Who is paid the rewards. */
  recipient: string;
  /** Tokens a two-hop route may go through. */
  intermediates: string[];
  /** The wrapped gas token (WETH), whose oracle price values gas. */
  wrappedNative: string;
  /** Symbols for the log (from the address book). */
  symbols?: ReadonlyMap<string, string>;
}

export interface KeeperBotOptions {
  provider: Provider;
  signer: Signer;
  contracts: KeeperContracts;
  settings: KeeperSettings;
  log: KeeperLog;
  /** How transactions are sent (`--private-rpc`); default the public mempool. */
  transport?: Transport;
  /** Picks the vaults each pass reads (the trigger-price index); without it every pass reads every vault. */
  watch?: VaultWatch;
}
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A batch's gas limit from its calls' own estimates, not from an estimate of the batch (see BATCH_GAS_MARGIN). */
function batchGasLimit(group: readonly Execution[]): bigint {
  const sum = group.reduce((acc, e) => acc + e.gas, 0n);
  return (sum * BATCH_GAS_MARGIN[0]) / BATCH_GAS_MARGIN[1] + BATCH_GAS_OVERHEAD;
}

function gwei(wei: bigint): string {
  return fmt.fixed(wei, 9, 3);
}

export class KeeperBot {
  readonly log: KeeperLog;
  readonly settings: KeeperSettings;
  private readonly provider: Provider;
  private readonly contracts: KeeperContracts;
  private readonly auction: KeeperAuction;
  private readonly router: Router;
  private readonly valuer: Valuer;
  private readonly sender: TxSender;
  /** Registry order, as the events gave them. */
  private readonly vaults: string[] = [];
  private readonly known = new Set<string>();
  /** Vaults whose auction may be running: seen in a `Kicked` event or the lens, and not yet seen ended. */
  private readonly maybeActive = new Set<string>();
  /** Next block to search for events; undefined until the registry has been read (no `fromBlock`). */
  private nextBlock: number | undefined;
  /** This pass reached `--max-spend-per-pass`: it sends nothing more. */
  private capReached = false;
  private readonly watch: VaultWatch | undefined;
  /** The registry read's statuses, kept for the first pass's sweep at the same block. */
  private registry: { block: number; statuses: VaultStatus[] } | undefined;

  constructor(options: KeeperBotOptions) {
    this.provider = options.provider;
    this.contracts = options.contracts;
    this.settings = options.settings;
    this.log = options.log;
    this.auction = options.contracts.auction.connect(options.signer);
    this.router = new Router(
      options.contracts.quoter,
      options.contracts.uniswapFactory,
      guardRoutes(options.contracts.priceGuard),
      options.settings.intermediates,
    );
    this.valuer = new Valuer(
      options.contracts.oracle,
      options.provider,
      options.settings.wrappedNative,
      options.settings.symbols,
    );
    this.sender = new TxSender(options.signer, options.provider, options.log, {
      timeoutMs: options.settings.txTimeoutMs,
      maxFee: options.settings.maxFee,
      maxSpend: options.settings.maxSpendPerPass,
      pollMs: options.settings.pollMs,
      transport: options.transport,
    });
    this.nextBlock = options.settings.fromBlock;
    this.watch = options.watch;
  }

  /** The vaults found so far, in registry order. */
  knownVaults(): readonly string[] {
    return this.vaults;
  }

  /** One pass: plan, then act. Failures of single vaults are logged and summarised; only an RPC failure throws. */
  async pass(): Promise<PassSummary> {
    const started = Date.now();
    const plan = await this.plan();
    const summary = await this.act(plan);
    this.log.info("pass", {
      block: summary.block,
      vaults: summary.vaults,
      read: summary.read,
      sweep: summary.sweep,
      rolled: summary.rolled,
      outOfBand: summary.outOfBand,
      kicked: summary.kicked.length,
      cancelled: summary.cancelled.length,
      executed: summary.executed.length,
      lostRaces: summary.lostRaces.length,
      failed: summary.failed.length,
      skipped: summary.skipped.length,
      txs: summary.transactions.length,
      ms: Date.now() - started,
    });
    return summary;
  }

  /** Reads everything and decides what to send: nothing is sent. */
  async plan(): Promise<PassPlan> {
    this.valuer.newPass();
    const block = await this.provider.getBlockNumber();
    const summary = emptySummary(block);
    summary.discovered = await this.sync(block);
    summary.vaults = this.vaults.length;

    const fees = await readFees(this.provider, this.settings.maxFee, this.settings.priorityFee);
    const cap = this.settings.maxFee;
    const sendAllowed = cap === undefined || fees.gasPrice <= cap;
    if (!sendAllowed) {
      this.log.warn("gas-price-too-high", { block, gasPriceGwei: gwei(fees.gasPrice), maxGwei: gwei(cap ?? 0n) });
    }
    const plan: PassPlan = {
      summary,
      fees: fees.overrides,
      gasPrice: fees.gasPrice,
      sendAllowed,
      cancels: [],
      kicks: [],
      executions: [],
      disables: [],
    };

    const statuses = await this.read(block, summary);
    const needed: VaultStatus[] = [];
    const cancelCandidates: string[] = [];
    for (const s of statuses) {
      const vault = getAddress(s.vault);
      if (s.kickedAt !== 0n) this.maybeActive.add(vault);
      if (!s.ok) {
        const failure = decodeReason(s.revertData);
        summary.failed.push({ vault, stage: "status", ...failure });
        this.log.warn("status-unavailable", { vault, ...failure });
        continue;
      }
      if (s.needed) needed.push(s);
      else if (this.maybeActive.has(vault)) cancelCandidates.push(vault);
    }
    summary.outOfBand = needed.length;

    const [config, auctions, rewards, ended] = await Promise.all([
      needed.length > 0 ? this.contracts.auction.config() : undefined,
      Promise.all(needed.map((s) => this.contracts.auction.auctionOf(s.vault))),
      Promise.all(needed.map((s) => this.contracts.auction.currentRewardBps(s.vault))),
      Promise.all(cancelCandidates.map((v) => this.contracts.auction.auctionOf(v))),
    ]);

    const rules = { minDebtBase: config?.minDebtBase ?? 0n, cancel: this.settings.cancel };
    cancelCandidates.forEach((vault, i) => {
      const running = ended[i].kickedAt !== 0n;
      if (!running) this.maybeActive.delete(vault);
      const action = decideVault({ needed: false, wanted: "none", debtBase: 0n, auctionRunning: running }, rules);
      if (action.kind === "cancel") plan.cancels.push({ vault });
      else if (action.kind === "cancel-skipped") {
        this.log.debug("cancel-skipped", { vault, reason: "back in band; --no-cancel" });
      }
    });

    const toExecute: { status: VaultStatus; rewardBps: bigint }[] = [];
    needed.forEach((s, i) => {
      const vault = getAddress(s.vault);
      const auction = auctions[i];
      const running = auction.kickedAt !== 0n;
      if (running) this.maybeActive.add(vault);
      else this.maybeActive.delete(vault);
      const action = decideVault(
        {
          needed: true,
          wanted: direction(s.direction),
          debtBase: s.position.debtBase,
          auctionRunning: running,
          auctionDirection: direction(auction.direction),
        },
        rules,
      );
      switch (action.kind) {
        case "dust":
          summary.skipped.push({ vault, reason: "dust" });
          this.log.debug("dust", { vault, debtBase: s.position.debtBase, minDebtBase: rules.minDebtBase });
          return;
        case "kick":
          plan.kicks.push({ vault, direction: action.direction });
          return;
        case "cancel":
          plan.cancels.push({ vault, rekick: action.rekick });
          return;
        case "execute":
          toExecute.push({ status: s, rewardBps: rewards[i] });
          return;
        default:
          return;
      }
    });

    for (const { status, rewardBps } of toExecute) {
      const vault = getAddress(status.vault);
      if (!sendAllowed) {
        summary.skipped.push({ vault, reason: "gas-price" });
        continue;
      }
      const execution = await this.evaluate(status, rewardBps, fees, summary, plan.disables);
      if (execution !== undefined) plan.executions.push(execution);
    }
    return plan;
  }

  /** Sends what the plan decided: cancels, kicks, then executions (batched when two or more pay). */
  async act(plan: PassPlan): Promise<PassSummary> {
    const { summary } = plan;
    this.sender.newPass();
    this.capReached = false;
    if (!plan.sendAllowed) {
      for (const k of plan.kicks) summary.skipped.push({ vault: k.vault, reason: "gas-price" });
      for (const c of plan.cancels) summary.skipped.push({ vault: c.vault, reason: "gas-price" });
      return summary;
    }
    await this.pipeline(
      plan.disables,
      () => "disableCollateral",
      (d) => [d.vault],
      (d) => BallastVault__factory.connect(d.vault, this.sender.signer).disableCollateral.populateTransaction(d.asset),
      () => undefined,
      plan.fees,
      summary,
      async (d, receipt) => {
        this.log.info("collateral-disabled", { vault: d.vault, asset: d.asset, tx: receipt.hash });
      },
      async (d, failure, tx) => {
        summary.failed.push({ vault: d.vault, stage: "disable-collateral", ...failure });
        this.log.warn("disable-collateral-failed", { vault: d.vault, asset: d.asset, ...failure, tx });
      },
    );
    // Each phase submits its transactions one after another (nonces in order), then waits for them all; a kick
    // that follows a cancel of the same vault needs the cancel mined first, hence the phases.
    const rekicks: Kick[] = [];
    await this.pipeline(
      plan.cancels,
      () => "cancel",
      (c) => [c.vault],
      (c) => this.auction.cancel.populateTransaction(c.vault),
      () => undefined,
      plan.fees,
      summary,
      async (c, receipt) => {
        summary.cancelled.push(c.vault);
        this.maybeActive.delete(c.vault);
        this.log.info("cancelled", { vault: c.vault, tx: receipt.hash, gasUsed: receipt.gasUsed });
        if (c.rekick !== undefined) rekicks.push({ vault: c.vault, direction: c.rekick });
      },
      async (c, failure, tx) => {
        if (failure.error === "AuctionNotActive") {
          this.maybeActive.delete(c.vault);
          this.log.info("cancel-raced", { vault: c.vault, reason: failure.reason, tx });
          if (c.rekick !== undefined) rekicks.push({ vault: c.vault, direction: c.rekick });
          return;
        }
        summary.failed.push({ vault: c.vault, stage: "cancel", ...failure });
        this.log.warn("cancel-failed", { vault: c.vault, ...failure, tx });
      },
    );
    await this.pipeline(
      [...rekicks, ...plan.kicks],
      () => "kick",
      (k) => [k.vault],
      (k) => this.auction.kick.populateTransaction(k.vault),
      () => undefined,
      plan.fees,
      summary,
      async (k, receipt) => {
        summary.kicked.push(k.vault);
        this.maybeActive.add(k.vault);
        const kicked = this.parse(receipt).find((l) => l.name === "Kicked");
        this.log.info("kicked", {
          vault: k.vault,
          direction: kicked !== undefined ? direction(kicked.args.direction as bigint) : k.direction,
          hf: kicked !== undefined ? fmt.hf(kicked.args.hf as bigint) : undefined,
          tx: receipt.hash,
          gasUsed: receipt.gasUsed,
        });
      },
      async (k, failure, tx) => {
        if (failure.error === "AuctionActive") {
          summary.kickRaces.push(k.vault);
          this.maybeActive.add(k.vault);
          this.log.info("kick-raced", { vault: k.vault, reason: failure.reason, tx });
        } else if (failure.error === "AuctionNotNeeded") {
          this.log.info("kick-not-needed", { vault: k.vault, reason: failure.reason, tx });
        } else {
          summary.failed.push({ vault: k.vault, stage: "kick", ...failure });
          this.log.warn("kick-failed", { vault: k.vault, ...failure, tx });
        }
      },
    );

    const groups = batches(plan.executions, this.settings.batchSize);
    for (const group of groups) {
      if (group.length > 1)
        this.log.info("batch", { vaults: group.map((e) => e.vault), gasLimit: batchGasLimit(group) });
    }
    await this.pipeline(
      groups,
      (g) => (g.length === 1 ? "execute" : "executeBatch"),
      (g) => g.map((e) => e.vault),
      (g) =>
        g.length === 1
          ? this.auction.execute.populateTransaction(
              g[0].vault,
              g[0].route.path,
              g[0].maxAmountIn,
              this.settings.recipient,
            )
          : this.auction.executeBatch.populateTransaction(
              g.map((e) => ({ vault: e.vault, path: e.route.path, maxAmountIn: e.maxAmountIn })),
              this.settings.recipient,
            ),
      (g) => (g.length === 1 ? (g[0].gas * SINGLE_GAS_MARGIN[0]) / SINGLE_GAS_MARGIN[1] : batchGasLimit(g)),
      plan.fees,
      summary,
      (g, receipt) => this.record(receipt, g, g.length > 1, summary),
      async (g, failure, tx) => {
        for (const e of g) await this.executionFailed(e.vault, failure, summary, tx);
      },
    );
    return summary;
  }

  /** New vaults from `VaultCreated`, and auctions from `Kicked`, since the last block searched. */
  private async sync(latest: number): Promise<number> {
    if (this.nextBlock === undefined) return this.readRegistry(latest);
    let discovered = 0;
    const { factory } = this.contracts;
    const from = this.nextBlock;
    while (this.nextBlock <= latest) {
      const to = Math.min(latest, this.nextBlock + this.settings.blockRange - 1);
      const [created, kicked] = await Promise.all([
        factory.queryFilter(factory.filters.VaultCreated(), this.nextBlock, to),
        this.contracts.auction.queryFilter(this.contracts.auction.filters.Kicked(), this.nextBlock, to),
      ]);
      for (const e of created) if (this.addVault(e.args.vault)) discovered++;
      for (const e of kicked) this.maybeActive.add(getAddress(e.args.vault));
      await this.watch?.follow(this.nextBlock, to, this.known);
      this.nextBlock = to + 1;
    }
    if (discovered > 0) {
      this.log.info("vaults-discovered", {
        fromBlock: from,
        toBlock: latest,
        new: discovered,
        total: this.vaults.length,
      });
    }
    return discovered;
  }

  private addVault(address: string): boolean {
    const vault = getAddress(address);
    if (this.known.has(vault)) return false;
    this.known.add(vault);
    this.vaults.push(vault);
    return true;
  }

  /**
   * The factory's whole registry at block `latest`, `pageSize` vaults per `lens.scan` call, pinned to that block so
   * that a vault created after it is found by the event search, which starts at the next block. Auctions running then
   * are in the statuses (`kickedAt`).
   */
  private async readRegistry(latest: number): Promise<number> {
    const { factory, lens } = this.contracts;
    const at = { blockTag: latest };
    const count = Number(await factory.vaultCount(at));
    let discovered = 0;
    const statuses: VaultStatus[] = [];
    for (let start = 0; start < count; start += this.settings.pageSize) {
      for (const s of await lens.scan(factory, start, this.settings.pageSize, at)) {
        if (this.addVault(s.vault)) discovered++;
        if (s.kickedAt !== 0n) this.maybeActive.add(getAddress(s.vault));
        statuses.push(s);
      }
    }
    this.registry = { block: latest, statuses };
    this.nextBlock = latest + 1;
    this.log.info("registry-read", {
      block: latest,
      vaults: count,
      lensCalls: Math.ceil(count / this.settings.pageSize),
    });
    return discovered;
  }

  /**
   * The statuses this pass decides from, read at `block`: every known vault without the index; with it, the vaults
   * the index picks (every vault on a sweep), plus any whose auction may be running.
   */
  private async read(block: number, summary: PassSummary): Promise<VaultStatus[]> {
    const registry = this.registry;
    this.registry = undefined;
    if (this.watch === undefined) {
      // Every vault every pass, and no index to rebuild: not a sweep.
      summary.read = this.vaults.length;
      summary.sweep = false;
      summary.rolled = 0;
      return registry?.block === block ? registry.statuses : this.statuses(this.vaults, block);
    }
    const header = await this.provider.getBlock(block);
    if (header === null) throw new Error(`the node has no block ${block}`);
    const selection = await this.watch.select(this.vaults, this.maybeActive, block, header.timestamp);
    const statuses =
      selection.sweep && registry?.block === block ? registry.statuses : await this.statuses(selection.vaults, block);
    await this.watch.record(statuses, block, header.timestamp, selection.sweep);
    summary.read = selection.vaults.length;
    summary.sweep = selection.sweep;
    summary.rolled = selection.rolled;
    this.log.debug("index-read", { sweep: selection.sweep, rolled: selection.rolled, vaults: selection.vaults });
    return statuses;
  }

  /** These vaults' statuses at `block`, `pageSize` per lens call. */
  private async statuses(vaults: readonly string[], block: number): Promise<VaultStatus[]> {
    const out: VaultStatus[] = [];
    for (const page of chunks(vaults, Math.max(1, this.settings.pageSize))) {
      out.push(...(await this.contracts.lens.statuses(page, { blockTag: block })));
    }
    return out;
  }

  /** Route, reward, gas and profit of executing one running auction; undefined when it is not worth it. */
  private async evaluate(
    s: VaultStatus,
    rewardBps: bigint,
    fees: Fees,
    summary: PassSummary,
    disables: CollateralDisable[],
  ): Promise<Execution | undefined> {
    const vault = getAddress(s.vault);
    const dir = direction(s.direction);
    const { gasPrice } = fees;
    // The auction's own quote of its gas part at this pass's base fee and tip, priced as on-chain (a single execution:
    // a later call of a batch is priced lower, and costs less gas too).
    const quote = await this.auction.quoteReward(vault, fees.baseFee, fees.tip, false);
    if (rewardBps === 0n && quote.gasRewardBase === 0n) return this.noReward(vault, dir, summary);
    const [tokenIn, tokenOut] =
      dir === "leverage" ? [s.debtAsset, s.collateralAsset] : [s.collateralAsset, s.debtAsset];
    await Promise.all([this.valuer.symbol(tokenIn), this.valuer.symbol(tokenOut)]);
    const choice = await this.router.route(tokenIn, tokenOut, s.amountIn);
    const sym = (t: string) => this.valuer.knownSymbol(t);
    for (const q of choice.quotes) {
      this.log.debug("quote", { vault, route: describeRoute(q, sym), amountOut: q.amountOut });
    }
    for (const q of choice.failed)
      this.log.debug("quote-failed", { vault, route: describeRoute(q, sym), error: q.error });
    const route = choice.best;
    if (route === undefined) {
      summary.skipped.push({ vault, reason: "no-route" });
      this.log.warn("no-route", { vault, tokenIn: sym(tokenIn), tokenOut: sym(tokenOut), amountIn: s.amountIn });
      return undefined;
    }

    let gas: bigint;
    let maxAmountIn: bigint;
    try {
      // The whole move first; a deleverage the pool is too thin for within the slippage bound, in part.
      ({ hint: maxAmountIn, result: gas } = await firstAcceptedHint(saleHints(dir, s.amountIn), (hint) =>
        this.auction.execute.estimateGas(vault, route.path, hint, this.settings.recipient),
      ));
    } catch (e) {
      const failure = describeFailure(e);
      if (failure.error === "AuctionNotActive") {
        summary.lostRaces.push(vault);
        this.log.info("lost-race", { vault, stage: "simulate", reason: failure.reason });
      } else {
        summary.failed.push({ vault, stage: "simulate", ...failure });
        this.log.warn("simulation-failed", { vault, direction: dir, route: describeRoute(route, sym), ...failure });
        if (failure.error === `Error("${AAVE_LTV_VALIDATION_FAILED}")`) {
          const pool = await BallastVault__factory.connect(vault, this.provider).POOL();
          const assets = await foreignCollateral(this.provider, pool, vault, s.collateralAsset);
          for (const asset of assets) disables.push({ vault, asset });
          if (assets.length > 0) this.log.warn("foreign-collateral", { vault, assets });
        }
      }
      return undefined;
    }
    const sold = maxAmountIn < s.amountIn ? maxAmountIn : s.amountIn;
    if (sold < s.amountIn) this.log.info("partial-sale", { vault, amountIn: s.amountIn, hint: sold });
    const valueSoldBase = await this.valuer.value(tokenIn, sold);
    const value = assessExecution({
      valueSoldBase,
      rewardBps,
      gasRewardBase: quote.gasRewardBase,
      maxRewardBase: quote.maxRewardBase,
      gas,
      gasPrice,
      nativePriceBase: await this.valuer.price(this.settings.wrappedNative),
      minProfitBase: this.settings.minProfitBase,
    });
    const { rewardBase, gasCostBase, profitBase } = value;
    if (value.reason === "no-reward") return this.noReward(vault, dir, summary);
    const fields = {
      vault,
      direction: dir,
      route: describeRoute(route, sym),
      amountIn: await this.valuer.amount(tokenIn, sold),
      tokenIn: sym(tokenIn),
      rewardBps: Number(rewardBps),
      rewardUsd: await this.valuer.usd(rewardBase),
      gas,
      gasPriceGwei: gwei(gasPrice),
      gasUsd: await this.valuer.usd(gasCostBase),
      profitUsd: await this.valuer.usd(profitBase),
    };
    if (!value.pays) {
      summary.skipped.push({ vault, reason: "unprofitable" });
      this.log.info("unprofitable", { ...fields, minProfitUsd: await this.valuer.usd(this.settings.minProfitBase) });
      return undefined;
    }
    this.log.info("profitable", fields);
    return {
      vault,
      direction: dir,
      tokenIn,
      tokenOut,
      debtAsset: s.debtAsset,
      amountIn: s.amountIn,
      maxAmountIn,
      rewardBps,
      rewardBase,
      gas,
      gasCostBase,
      profitBase,
      route,
    };
  }

  private noReward(vault: string, dir: Direction, summary: PassSummary): undefined {
    summary.skipped.push({ vault, reason: "no-reward" });
    this.log.info("no-reward", {
      vault,
      direction: dir,
      reason: "the auction pays nothing for this move (too small)",
    });
    return undefined;
  }

  /**
   * Submits one transaction per item in turn, so that the nonces follow each other, then waits for each. A failure
   * to send or a revert goes to `onFailed`, decoded, with the hash when the transaction was mined anyway. Once the
   * pass's spending cap is reached, the rest of the pass is skipped (`spend-cap`), nothing sent.
   */
  private async pipeline<T>(
    items: readonly T[],
    action: (item: T) => string,
    vaultsOf: (item: T) => string[],
    build: (item: T) => Promise<ContractTransaction>,
    gasLimitOf: (item: T) => bigint | undefined,
    fees: FeeOverrides,
    summary: PassSummary,
    onMined: (item: T, receipt: TransactionReceipt) => Promise<void>,
    onFailed: (item: T, failure: Failure, tx: string | undefined) => Promise<void>,
  ): Promise<void> {
    const sent: { item: T; tx: SentTx }[] = [];
    for (const item of items) {
      const vaults = vaultsOf(item);
      if (this.capReached) {
        for (const vault of vaults) summary.skipped.push({ vault, reason: "spend-cap" });
        continue;
      }
      try {
        const populated = await build(item);
        const request: TxRequest = { to: populated.to, data: populated.data };
        const vault = vaults.length === 1 ? vaults[0] : undefined;
        const tx = await this.sender.submit(action(item), vault, fees, request, gasLimitOf(item));
        summary.transactions.push(tx.hash);
        sent.push({ item, tx });
      } catch (e) {
        if (e instanceof SpendCapReached) {
          this.capReached = true;
          for (const vault of vaults) summary.skipped.push({ vault, reason: "spend-cap" });
          this.log.warn("spend-cap-reached", {
            action: action(item),
            vaults,
            reason: `${e.message}: nothing more is sent this pass`,
          });
          continue;
        }
        await onFailed(item, describeFailure(e), this.minedFailure(e, summary));
      }
    }
    for (const { item, tx } of sent) {
      let receipt: TransactionReceipt;
      try {
        receipt = await this.sender.confirm(tx);
      } catch (e) {
        this.replacements(tx, summary);
        await onFailed(item, describeFailure(e), tx.hash);
        continue;
      }
      this.replacements(tx, summary);
      await onMined(item, receipt);
    }
  }

  /** A replacement's or cancel's hash joins the pass's transactions. */
  private replacements(tx: SentTx, summary: PassSummary): void {
    for (const hash of tx.hashes) if (!summary.transactions.includes(hash)) summary.transactions.push(hash);
  }

  /** Reads `Executed`, `ExecutionFailed` and `RewardDeferred` from a receipt. */
  private async record(
    receipt: TransactionReceipt,
    group: Execution[],
    batched: boolean,
    summary: PassSummary,
  ): Promise<void> {
    const byVault = new Map(group.map((e) => [e.vault, e]));
    const seen = new Set<string>();
    for (const log of this.parse(receipt)) {
      if (log.name === "Executed") {
        const vault = getAddress(log.args.vault as string);
        const e = byVault.get(vault);
        seen.add(vault);
        const reward = log.args.reward as bigint;
        const executed: ExecutedVault = {
          vault,
          rewardBps: Number(log.args.rewardBps as bigint),
          reward,
          hfBefore: log.args.hfBefore as bigint,
          hfAfter: log.args.hfAfter as bigint,
          tx: receipt.hash,
          batched,
        };
        summary.executed.push(executed);
        this.maybeActive.delete(vault);
        const debtAsset = e?.debtAsset;
        this.log.info("executed", {
          vault,
          direction: e?.direction,
          route: e !== undefined ? describeRoute(e.route, (t) => this.valuer.knownSymbol(t)) : undefined,
          rewardBps: executed.rewardBps,
          reward: debtAsset !== undefined ? await this.valuer.amount(debtAsset, reward) : reward,
          rewardToken: debtAsset !== undefined ? this.valuer.knownSymbol(debtAsset) : undefined,
          rewardUsd:
            debtAsset !== undefined ? await this.valuer.usd(await this.valuer.value(debtAsset, reward)) : undefined,
          hfBefore: fmt.hf(executed.hfBefore),
          hfAfter: fmt.hf(executed.hfAfter),
          tx: receipt.hash,
          gasUsed: receipt.gasUsed,
          batched,
        });
      } else if (log.name === "ExecutionFailed") {
        const vault = getAddress(log.args.vault as string);
        seen.add(vault);
        await this.executionFailed(vault, decodeReason(log.args.reason as string), summary, receipt.hash);
      } else if (log.name === "RewardDeferred") {
        this.log.warn("reward-deferred", {
          recipient: log.args.recipient as string,
          token: this.valuer.knownSymbol(log.args.token as string),
          amount: log.args.amount as bigint,
          reason: "the transfer to the recipient failed: call auction.claim(token, to) from the recipient",
        });
      }
    }
    for (const e of group) {
      if (!seen.has(e.vault)) {
        await this.executionFailed(e.vault, { error: "NoEvent", reason: "no Executed event in the receipt" }, summary);
      }
    }
  }

  /** A failed execution: a lost race when the auction is gone (decoded, or read back when the node gave no data). */
  private async executionFailed(vault: string, failure: Failure, summary: PassSummary, tx?: string): Promise<void> {
    let lost = failure.error === "AuctionNotActive";
    if (!lost && (failure.error === "CALL_EXCEPTION" || failure.error === "NoEvent")) {
      try {
        lost = (await this.contracts.auction.auctionOf(vault)).kickedAt === 0n;
      } catch {
        // keep it a failure
      }
    }
    if (lost) {
      summary.lostRaces.push(vault);
      this.maybeActive.delete(vault);
      this.log.info("lost-race", { vault, stage: "execute", reason: failure.reason, tx });
      return;
    }
    summary.failed.push({ vault, stage: "execute", ...failure });
    this.log.warn("execute-failed", { vault, ...failure, tx });
  }

  /** Records a transaction that was mined although its send failed (Hardhat's automine); returns its hash. */
  private minedFailure(e: unknown, summary: PassSummary): string | undefined {
    const hash = minedHash(e);
    if (hash !== undefined && !summary.transactions.includes(hash)) summary.transactions.push(hash);
    return hash;
  }

  /** The auction's events in a receipt. */
  private parse(receipt: TransactionReceipt): LogDescription[] {
    const address = getAddress(String(this.contracts.auction.target));
    const out: LogDescription[] = [];
    for (const l of receipt.logs) {
      if (getAddress(l.address) !== address) continue;
      const parsed = this.auction.interface.parseLog(l);
      if (parsed !== null) out.push(parsed);
    }
    return out;
  }
}
