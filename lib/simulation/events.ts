/**
 * `--events f.csv`: one row per event of every run, in chain order within a run, runs in the order they ran (path,
 * then policy and baselines). Opens are recorded as the engine makes them; kicks, cancels, rebalances and
 * liquidations are read back from the chain's logs after each run's replay (the auction's `Kicked`, `Cancelled`,
 * `Executed` and `ExecutionFailed`, the vaults' `Rebalanced` reports, Aave's `LiquidationCall`), so the keepers and
 * the liquidator need no hooks and the rows are what the contracts emitted.
 *
 * Columns: `time` (unix seconds on the path's clock), `path`, `policy` (the run's label: `static@1.10` for a
 * baseline), `vault` (owner index), `price` (WETH, USD, in effect), `hf` (the vault's HF after the event: opened
 * at, kicked at, rebalanced to, left by the liquidation; empty for a cancel), `action` (open, kick, cancel,
 * rebalance, rebalance-failed, liquidation), `keeper` (its name, or empty), `costUsd` (open: the deposit's value less
 * the equity after opening; kick, cancel, failed rebalance: the keeper's gas at its gas price; rebalance: the owner's
 * equity loss by the vault's report, reward included; liquidation: collateral seized less debt repaid, oracle prices).
 */
import { getAddress, type Interface, type Log, type Provider } from "ethers";

import type { KeeperProfile } from "./keepers";

export const EVENT_ACTIONS = ["open", "kick", "cancel", "rebalance", "rebalance-failed", "liquidation"] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export interface SimEvent {
  time: number;
  path: number;
  policy: string;
  vault: number;
  price: number;
  hf: number | null;
  action: EventAction;
  keeper: string;
  costUsd: number;
}

export const EVENTS_HEADER = "time,path,policy,vault,price,hf,action,keeper,costUsd";

/** One run's events: the engine records its steps (to place chain times on the path) and the rows. */
export interface RunEvents {
  /** A step began: chain time, the path's time, and the WETH price (8 decimals). */
  step(chainTime: number, pathTime: number, price: bigint): void;
  record(event: Omit<SimEvent, "path" | "policy">): void;
  /** The path time and WETH price (8 decimals) in effect at a chain time. */
  locate(chainTime: number): { time: number; price: bigint };
}

export interface EventSink {
  run(path: number, policy: string): RunEvents;
}

const cents = (x: number): string => x.toFixed(2);

export function eventRow(e: SimEvent): string {
  return [
    e.time,
    e.path,
    e.policy,
    e.vault,
    cents(e.price),
    e.hf === null ? "" : e.hf.toFixed(4),
    e.action,
    e.keeper,
    cents(e.costUsd),
  ].join(",");
}

/** Collects every run's events in memory; `csv()` is the file. */
export class EventLog implements EventSink {
  readonly events: SimEvent[] = [];

  run(path: number, policy: string): RunEvents {
    const steps: { chain: number; path: number; price: bigint }[] = [];
    return {
      step: (chain, pathTime, price) => steps.push({ chain, path: pathTime, price }),
      record: (e) => this.events.push({ ...e, path, policy }),
      locate: (chainTime) => {
        let s = steps[0];
        for (const x of steps) if (x.chain <= chainTime) s = x;
        if (s === undefined) return { time: chainTime, price: 0n };
        return { time: s.path + (chainTime - s.chain), price: s.price };
      },
    };
  }

  csv(): string {
    return `${EVENTS_HEADER}\n${this.events.map(eventRow).join("\n")}${this.events.length > 0 ? "\n" : ""}`;
  }
}

/** The rows of several CSV files of events, in order, under one header (workers' and shards' files). */
export function concatEventFiles(texts: readonly string[]): string {
  const rows = texts.flatMap((t) =>
    t
      .split("\n")
      .slice(1)
      .filter((l) => l !== ""),
  );
  return `${EVENTS_HEADER}\n${rows.map((r) => `${r}\n`).join("")}`;
}

export interface HarvestContext {
  provider: Provider;
  auction: { address: string; iface: Interface };
  vaultIface: Interface;
  pool: { address: string; iface: Interface };
  weth: string;
  usdcPrice: bigint;
  keepers: readonly KeeperProfile[];
  /** Each keeper's address, in keeper order. */
  keeperAddresses: readonly string[];
  /** Vault address → owner index. */
  vaults: ReadonlyMap<string, number>;
}

const WAD = 10n ** 18n;
const E8 = 1e8;
const usd = (base: bigint): number => Number(base / 1_000_000n) / 100;

/** Reads the run's keeper and liquidation events from blocks `from`..`to` and records them. */
export async function harvestEvents(ctx: HarvestContext, events: RunEvents, from: number, to: number): Promise<void> {
  if (to < from) return;
  const logs = await ctx.provider.getLogs({ fromBlock: from, toBlock: to });
  const times = new Map<number, number>();
  const timeOf = async (block: number): Promise<number> => {
    let t = times.get(block);
    if (t === undefined) {
      const b = await ctx.provider.getBlock(block);
      t = b?.timestamp ?? 0;
      times.set(block, t);
    }
    return t;
  };
  const receipts = new Map<string, bigint>();
  const gasOf = async (hash: string): Promise<bigint> => {
    let g = receipts.get(hash);
    if (g === undefined) {
      g = (await ctx.provider.getTransactionReceipt(hash))?.gasUsed ?? 0n;
      receipts.set(hash, g);
    }
    return g;
  };
  const keeperIndex = (address: string): number => ctx.keeperAddresses.indexOf(getAddress(address));
  const gasCost = (keeper: number, gas: bigint, price: bigint): number =>
    keeper < 0 ? 0 : usd((gas * ctx.keepers[keeper].gasPrice * price) / WAD);
  // The vaults' reports by transaction and vault, for the rebalance cost.
  const reports = new Map<string, bigint>();
  for (const log of logs) {
    if (!ctx.vaults.has(getAddress(log.address))) continue;
    const parsed = ctx.vaultIface.parseLog(log);
    if (parsed?.name === "Rebalanced") {
      const report = parsed.args.report as { equityLossBase: bigint };
      reports.set(`${log.transactionHash}:${getAddress(log.address)}`, report.equityLossBase);
    }
  }
  const auction = getAddress(ctx.auction.address);
  const pool = getAddress(ctx.pool.address);
  for (const log of logs as Log[]) {
    const address = getAddress(log.address);
    if (address === auction) {
      const parsed = ctx.auction.iface.parseLog(log);
      if (parsed === null) continue;
      const vaultAddress = getAddress(parsed.args.vault as string);
      const vault = ctx.vaults.get(vaultAddress);
      if (vault === undefined) continue;
      const at = events.locate(await timeOf(log.blockNumber));
      const price = Number(at.price) / E8;
      const row = (action: EventAction, keeper: number, hf: number | null, costUsd: number) =>
        events.record({
          time: at.time,
          vault,
          price,
          hf,
          action,
          keeper: keeper < 0 ? "" : ctx.keepers[keeper].name,
          costUsd,
        });
      if (parsed.name === "Kicked") {
        const k = keeperIndex(parsed.args.kicker as string);
        row("kick", k, Number(parsed.args.hf as bigint) / 1e18, gasCost(k, await gasOf(log.transactionHash), at.price));
      } else if (parsed.name === "Cancelled") {
        const k = keeperIndex(parsed.args.caller as string);
        row("cancel", k, null, gasCost(k, await gasOf(log.transactionHash), at.price));
      } else if (parsed.name === "Executed") {
        const k = keeperIndex(parsed.args.keeper as string);
        const loss = reports.get(`${log.transactionHash}:${vaultAddress}`) ?? 0n;
        row("rebalance", k, Number(parsed.args.hfAfter as bigint) / 1e18, usd(loss));
      } else if (parsed.name === "ExecutionFailed") {
        const tx = await ctx.provider.getTransaction(log.transactionHash);
        const k = tx === null ? -1 : keeperIndex(tx.from);
        row("rebalance-failed", k, null, 0);
      }
    } else if (address === pool) {
      const parsed = ctx.pool.iface.parseLog(log);
      if (parsed?.name !== "LiquidationCall") continue;
      const vault = ctx.vaults.get(getAddress(parsed.args.user as string));
      if (vault === undefined || getAddress(parsed.args.collateralAsset as string) !== getAddress(ctx.weth)) continue;
      const at = events.locate(await timeOf(log.blockNumber));
      const seized = ((parsed.args.liquidatedCollateralAmount as bigint) * at.price) / WAD;
      const repaid = ((parsed.args.debtToCover as bigint) * ctx.usdcPrice) / 10n ** 6n;
      events.record({
        time: at.time,
        vault,
        price: Number(at.price) / E8,
        hf: null,
        action: "liquidation",
        keeper: "",
        costUsd: usd(seized - repaid),
      });
    }
  }
}
