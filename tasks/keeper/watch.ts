/**
 * Which vaults a keeper pass reads, so that a pass costs what the price move touched rather than the whole registry.
 *
 * A sweep reads every vault through the lens and builds one `TriggerIndex` per collateral/debt pair. Until the next
 * sweep, a pass reads only:
 * - the vaults whose trigger the pair's oracle ratio has crossed at this block (within the index's margin);
 * - the vaults touched since the last pass by an event of their own, or by an Aave event on their behalf (supply,
 *   repay, liquidation, collateral switched on or off); a vault whose own collateral switch moved it to another pair
 *   is re-indexed under that pair and dropped from the old one;
 * - the vaults whose auction may be running (the bot adds them), and those whose last status was unreadable.
 * - a rolling share of the registry, in registry order, so that every vault is re-read at least once every
 *   `sweepSeconds` of chain time (the index's margin covers the interest drift in between) without a pass that reads
 *   them all at once (at 100,000 vaults, minutes).
 * Every vault it reads is re-indexed from that status. A full sweep runs on the first pass, when the rolling share
 * would be the whole registry, and at once when the factory's policy bounds or an Aave reserve's collateral parameters
 * (its liquidation threshold) change, since those move every trigger at the same moment.
 *
 * What only a sweep sees: aTokens moved to a vault by a transfer, which only raise its HF (they can delay a leverage
 * trigger, never a deleverage one).
 */
import { getAddress, type Log, type Provider } from "ethers";

import { TriggerIndex, priceRatio, type PairPrices, type TriggerStatus } from "../../lib/keeper/triggers";
import {
  IBallastVault__factory,
  PoolConfigurator__factory,
  IPool__factory,
  type IAaveOracle,
  type IVaultLens,
  type VaultFactory,
} from "../../typechain-types";

export type VaultStatus = IVaultLens.VaultStatusStructOutput;

export interface WatchOptions {
  provider: Provider;
  factory: VaultFactory;
  oracle: IAaveOracle;
  /** The Aave pool the vaults borrow from: its events on a vault's behalf mark the vault. */
  pool: string;
  /** The pool's configurator: a new liquidation threshold moves every trigger of that collateral. */
  configurator: string;
  /** Chain seconds within which every vault is read again. */
  sweepSeconds: number;
  /** `TriggerIndexOptions.marginBps`. */
  marginBps: number;
}

/** Aave events that change a position without the vault taking part, and the argument naming the position. */
const POOL_EVENTS = {
  Supply: "onBehalfOf",
  Repay: "user",
  LiquidationCall: "user",
  ReserveUsedAsCollateralEnabled: "user",
  ReserveUsedAsCollateralDisabled: "user",
} as const;

const vaultInterface = IBallastVault__factory.createInterface();
const poolInterface = IPool__factory.createInterface();
/** Every event a vault emits: any of them may move its position, policy or pause. */
const VAULT_TOPICS: string[] = [];
vaultInterface.forEachEvent((e) => VAULT_TOPICS.push(e.topicHash));
const COLLATERAL_CONFIGURED = PoolConfigurator__factory.createInterface().getEvent(
  "CollateralConfigurationChanged",
).topicHash;
const POOL_TOPICS = Object.keys(POOL_EVENTS).map(
  (name) => poolInterface.getEvent(name as keyof typeof POOL_EVENTS).topicHash,
);

/** What the watch chose for one pass. */
export interface Selection {
  /** The vaults to read: everything on a sweep. */
  vaults: readonly string[];
  sweep: boolean;
  /** Of `vaults`, those read as the rolling share of the registry (they may also have been picked otherwise). */
  rolled: number;
}

export class VaultWatch {
  private readonly options: WatchOptions;
  private readonly indexes = new Map<string, TriggerIndex>();
  /** Each indexed vault's pair key. */
  private readonly pairOf = new Map<string, string>();
  private readonly pairAssets = new Map<string, [string, string]>();
  /** Touched by an event, or unreadable at the last read: read at the next pass. */
  private readonly marked = new Set<string>();
  /** Chain time of the last pass that read vaults (sweep or rolling share). */
  private lastRead: number | undefined;
  private sweepRequested = true;
  /** Where the rolling share goes on in the registry, and the fraction of a vault it owes from earlier passes. */
  private cursor = 0;
  private owed = 0;
  /** The factory's `minHFFloor` at the last sweep. */
  private floor = 0n;
  /** Each pair's oracle prices at one block: `select` and `record` of a pass read the same block. */
  private priced: { block: number; prices: Map<string, PairPrices> } = { block: -1, prices: new Map() };

  constructor(options: WatchOptions) {
    this.options = options;
  }

  /** Marks the vaults named by the events between `from` and `to` (the bot's event window) that it knows. */
  async follow(from: number, to: number, known: ReadonlySet<string>): Promise<void> {
    const { provider, factory, pool, configurator } = this.options;
    const [vaultLogs, poolLogs, bounds, reconfigured] = await Promise.all([
      // No address filter: one per vault would not scale. Ballast's own event signatures keep the result small.
      provider.getLogs({ fromBlock: from, toBlock: to, topics: [VAULT_TOPICS] }),
      provider.getLogs({ fromBlock: from, toBlock: to, address: pool, topics: [POOL_TOPICS] }),
      factory.queryFilter(factory.filters.PolicyBoundsSet(), from, to),
      provider.getLogs({ fromBlock: from, toBlock: to, address: configurator, topics: [COLLATERAL_CONFIGURED] }),
    ]);
    for (const l of vaultLogs) this.mark(l.address, known);
    for (const l of poolLogs) {
      const user = this.poolUser(l);
      if (user !== undefined) this.mark(user, known);
    }
    if (bounds.length > 0 || reconfigured.length > 0) this.sweepRequested = true;
  }

  /** The vaults to read at `block` (timestamp `time`), with `extra` always among them. */
  async select(known: readonly string[], extra: Iterable<string>, block: number, time: number): Promise<Selection> {
    if (this.sweepRequested || this.lastRead === undefined) return { vaults: known, sweep: true, rolled: known.length };
    this.owed += (known.length * Math.max(0, time - this.lastRead)) / this.options.sweepSeconds;
    this.lastRead = time;
    const rolled = Math.floor(this.owed);
    if (rolled >= known.length) return { vaults: known, sweep: true, rolled: known.length };
    this.owed -= rolled;
    const chosen = new Set<string>([...this.marked, ...extra]);
    for (let i = 0; i < rolled; i++) chosen.add(known[(this.cursor + i) % known.length]);
    this.cursor = known.length === 0 ? 0 : (this.cursor + rolled) % known.length;
    for (const [pair, index] of this.indexes) {
      const r = priceRatio(await this.prices(pair, block));
      const hits = index.query(r);
      for (const v of hits.deleverage) chosen.add(v);
      for (const v of hits.leverage) chosen.add(v);
    }
    // Registry order, as a full scan would read them.
    return { vaults: known.filter((v) => chosen.has(v)), sweep: false, rolled };
  }

  /** Takes the statuses a pass read at `block`: rebuilds every index on a sweep, else re-indexes each vault read. */
  async record(statuses: readonly VaultStatus[], block: number, time: number, sweep: boolean): Promise<void> {
    this.marked.clear();
    const byPair = new Map<string, TriggerStatus[]>();
    for (const s of statuses) {
      const vault = getAddress(s.vault);
      if (!s.ok) {
        this.unindex(vault);
        this.marked.add(vault);
        continue;
      }
      const assets: [string, string] = [getAddress(s.collateralAsset), getAddress(s.debtAsset)];
      const pair = assets.join("/");
      this.pairAssets.set(pair, assets);
      const list = byPair.get(pair);
      if (list === undefined) byPair.set(pair, [this.status(s, vault)]);
      else list.push(this.status(s, vault));
    }
    if (sweep) {
      // The floor is read only here: a change of it emits PolicyBoundsSet, which requests a sweep.
      this.floor = (await this.options.factory.policyBounds({ blockTag: block })).minHFFloor;
      this.indexes.clear();
      this.pairOf.clear();
      this.lastRead = time;
      this.sweepRequested = false;
      this.cursor = 0;
      this.owed = 0;
    }
    for (const [pair, list] of byPair) {
      const prices = await this.prices(pair, block);
      let index = this.indexes.get(pair);
      if (index === undefined) {
        index = new TriggerIndex({ marginBps: this.options.marginBps, minHFFloor: this.floor });
        this.indexes.set(pair, index);
      }
      if (sweep) index.build(list, prices);
      for (const s of list) {
        if (!sweep) {
          // A collateral switch moved the vault to another pair: its old trigger must not linger.
          const previous = this.pairOf.get(s.vault);
          if (previous !== undefined && previous !== pair) this.indexes.get(previous)?.remove(s.vault);
          index.update(s, prices);
        }
        this.pairOf.set(s.vault, pair);
      }
    }
  }

  private unindex(vault: string): void {
    const pair = this.pairOf.get(vault);
    if (pair !== undefined) this.indexes.get(pair)?.remove(vault);
    this.pairOf.delete(vault);
  }

  private status(s: VaultStatus, vault: string): TriggerStatus {
    return {
      vault,
      collateralAsset: s.collateralAsset,
      debtAsset: s.debtAsset,
      policy: s.policy,
      position: s.position,
      automationPaused: s.automationPaused,
      ok: s.ok,
    };
  }

  private async prices(pair: string, block: number): Promise<PairPrices> {
    if (this.priced.block !== block) this.priced = { block, prices: new Map() };
    const known = this.priced.prices.get(pair);
    if (known !== undefined) return known;
    const assets = this.pairAssets.get(pair) as [string, string];
    const [collateral, debt] = await this.options.oracle.getAssetsPrices(assets, { blockTag: block });
    const prices = { collateral, debt };
    this.priced.prices.set(pair, prices);
    return prices;
  }

  private mark(address: string, known: ReadonlySet<string>): void {
    const vault = getAddress(address);
    if (known.has(vault)) this.marked.add(vault);
  }

  private poolUser(log: Log): string | undefined {
    const parsed = poolInterface.parseLog(log);
    if (parsed === null) return undefined;
    return parsed.args[POOL_EVENTS[parsed.name as keyof typeof POOL_EVENTS]] as string;
  }
}
