/**
 * The trigger-price index: which vaults leave their band at a given price, without reading every vault.
 *
 * A single-pair position (C units of collateral, D units of debt, liquidation threshold LT) has
 * HF = C·Pc·LT / (D·Pd), linear in the price ratio r = Pc / Pd. So each vault leaves its band at two ratios:
 * r_low, where HF = minHF (below it, `RebalanceMath.band` says Deleverage), and r_high, where HF = maxHF (above it,
 * Leverage). The index keeps the r_low of every vault in one sorted list and the r_high in another; the vaults
 * crossed at r are a suffix of the first and a prefix of the second, found by binary search.
 *
 * One index holds one collateral/debt pair (r means nothing across pairs): a bot keeps one per pair. Foreign
 * collateral (`collateral.ts`) makes a vault's HF move with another price too, which only an update or a sweep sees.
 * `keeper:run` uses it through `tasks/keeper/watch.ts`.
 */

const WAD = 1e18;
const BPS = 10_000;

/** The lens status fields the index reads (`IVaultLens.VaultStatus`, as typechain decodes it). */
export interface TriggerStatus {
  vault: string;
  collateralAsset: string;
  debtAsset: string;
  policy: { minHF: bigint; maxHF: bigint };
  position: { collateralBase: bigint; debtBase: bigint; liquidationThresholdBps: bigint };
  automationPaused: boolean;
  ok: boolean;
}

/** Oracle prices (Aave base units per whole token) of the pair, read in the block the status was read in. */
export interface PairPrices {
  collateral: bigint;
  debt: bigint;
}

/** One vault's position in whole tokens and the ratios at which it leaves its band. */
export interface TriggerEntry {
  vault: string;
  /** Collateral and debt, whole tokens (base value over the price at the read). */
  collateral: number;
  debt: number;
  liquidationThresholdBps: number;
  /** Deleverage at or below this ratio; Infinity when the HF is 0 at every price (no collateral value). */
  low: number;
  /** Leverage at or above this ratio; Infinity when never. */
  high: number;
}

export interface TriggerHits {
  deleverage: string[];
  leverage: string[];
}

/** The price ratio r = Pc / Pd the triggers are expressed in. */
export function priceRatio(prices: PairPrices): number {
  if (prices.collateral <= 0n || prices.debt <= 0n) throw new Error("triggers: prices must be positive");
  return Number(prices.collateral) / Number(prices.debt);
}

/**
 * The HF at ratio r of a position of `collateral` and `debt` whole tokens, as a number (Aave's rounding aside);
 * Infinity without debt, as Aave reports it.
 */
export function healthFactorAt(collateral: number, debt: number, liquidationThresholdBps: number, r: number): number {
  if (debt === 0) return Infinity;
  return (collateral * r * liquidationThresholdBps) / (BPS * debt);
}

/**
 * A vault's triggers from its lens status, or undefined for a vault that never needs a keeper at any price: paused
 * automation (the lens sizes nothing for it), and no debt (`RebalanceMath.band` returns None without debt, whatever
 * the HF, so such a vault has neither trigger). Throws for a status whose `position()` reverted: it has no amounts.
 * `minHFFloor`: the factory's `policyBounds().minHFFloor`; the vault's `rebalanceNeeded` bands on its policy with
 * minHF raised to it (`boundedPolicy`), while the status carries the raw policy.
 */
export function triggerEntry(status: TriggerStatus, prices: PairPrices, minHFFloor = 0n): TriggerEntry | undefined {
  if (!status.ok) throw new Error(`triggers: ${status.vault}'s position could not be read`);
  priceRatio(prices);
  const { collateralBase, debtBase, liquidationThresholdBps } = status.position;
  if (status.automationPaused || debtBase === 0n) return undefined;
  const collateral = Number(collateralBase) / Number(prices.collateral);
  const debt = Number(debtBase) / Number(prices.debt);
  const lt = Number(liquidationThresholdBps);
  // HF(r) = perRatio · r; with no collateral value it is 0 at every price: always below the band, never above.
  const perRatio = healthFactorAt(collateral, debt, lt, 1);
  const crossing = (hf: bigint): number => (perRatio > 0 ? Number(hf) / WAD / perRatio : Infinity);
  return {
    vault: status.vault,
    collateral,
    debt,
    liquidationThresholdBps: lt,
    low: crossing(status.policy.minHF > minHFFloor ? status.policy.minHF : minHFFloor),
    high: crossing(status.policy.maxHF),
  };
}

/**
 * Chunk length of `SortedKeys`: an update shifts one chunk (at most 2·CHUNK entries) rather than the whole array,
 * and a query concatenates k / CHUNK chunks.
 */
const CHUNK = 512;

interface Chunk {
  keys: number[];
  vaults: string[];
}

/** (k1, v1) sorts before (k2, v2): by key, ties by vault address, so one (key, vault) pair has one place. */
function before(k1: number, v1: string, k2: number, v2: string): boolean {
  return k1 < k2 || (k1 === k2 && v1 < v2);
}

/**
 * Keys in ascending order with their vaults, as a list of sorted chunks (a sorted array cut in pieces): build
 * O(N log N), insert and remove O(log N + CHUNK), the vaults above or below a key O(log N + k).
 */
class SortedKeys {
  private chunks: Chunk[] = [];

  /** Replaces the contents, sorted once. */
  reset(keys: readonly number[], vaults: readonly string[]): void {
    const order = new Uint32Array(keys.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    // Infinity - Infinity is NaN, which is falsy: equal keys fall through to the address.
    order.sort((a, b) => keys[a] - keys[b] || (vaults[a] < vaults[b] ? -1 : vaults[a] > vaults[b] ? 1 : 0));
    this.chunks = [];
    for (let start = 0; start < order.length; start += CHUNK) {
      const chunk: Chunk = { keys: [], vaults: [] };
      for (const i of order.subarray(start, start + CHUNK)) {
        chunk.keys.push(keys[i]);
        chunk.vaults.push(vaults[i]);
      }
      this.chunks.push(chunk);
    }
  }

  /** The chunk (key, vault) belongs in: the first whose last entry is not before it, else the last. */
  private chunkFor(key: number, vault: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid];
      const last = c.keys.length - 1;
      if (before(c.keys[last], c.vaults[last], key, vault)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index in `c` whose entry is not before (key, vault). */
  private static position(c: Chunk, key: number, vault: string): number {
    let lo = 0;
    let hi = c.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(c.keys[mid], c.vaults[mid], key, vault)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First chunk, and first index in it, whose key is at least `key` (`strict`: above it); past the end if none. */
  private boundary(key: number, strict: boolean): [number, number] {
    const below = (k: number): boolean => k < key || (strict && k === key);
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const keys = this.chunks[mid].keys;
      if (below(keys[keys.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.chunks.length) return [lo, 0];
    const keys = this.chunks[lo].keys;
    let i = 0;
    let j = keys.length;
    while (i < j) {
      const mid = (i + j) >>> 1;
      if (below(keys[mid])) i = mid + 1;
      else j = mid;
    }
    return [lo, i];
  }

  /** The vaults whose key is at least `key`, in key order. */
  atLeast(key: number): string[] {
    const [c, i] = this.boundary(key, false);
    if (c === this.chunks.length) return [];
    const out = this.chunks[c].vaults.slice(i);
    for (let n = c + 1; n < this.chunks.length; n++) out.push(...this.chunks[n].vaults);
    return out;
  }

  /** The vaults whose key is at most `key`, in key order. */
  atMost(key: number): string[] {
    const [c, i] = this.boundary(key, true);
    const out: string[] = [];
    for (let n = 0; n < c; n++) out.push(...this.chunks[n].vaults);
    if (c < this.chunks.length) out.push(...this.chunks[c].vaults.slice(0, i));
    return out;
  }

  insert(key: number, vault: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [key], vaults: [vault] });
      return;
    }
    const n = this.chunkFor(key, vault);
    const c = this.chunks[n];
    const i = SortedKeys.position(c, key, vault);
    c.keys.splice(i, 0, key);
    c.vaults.splice(i, 0, vault);
    if (c.keys.length > 2 * CHUNK) {
      this.chunks.splice(n + 1, 0, { keys: c.keys.splice(CHUNK), vaults: c.vaults.splice(CHUNK) });
    }
  }

  remove(key: number, vault: string): void {
    const n = this.chunkFor(key, vault);
    const c = this.chunks[n];
    const i = c === undefined ? 0 : SortedKeys.position(c, key, vault);
    if (c === undefined || c.keys[i] !== key || c.vaults[i] !== vault) {
      throw new Error(`triggers: ${vault} is not indexed`);
    }
    c.keys.splice(i, 1);
    c.vaults.splice(i, 1);
    if (c.keys.length === 0) this.chunks.splice(n, 1);
  }
}

export interface TriggerIndexOptions {
  /**
   * A vault counts as crossed when r is within this many bps of its trigger (r <= r_low·(1 + m), r >= r_high·(1 - m)).
   * Why: the triggers are computed at the last read, and between reads the debt accrues interest (r_low creeps up)
   * and the collateral earns supply interest (r_high creeps down); either drift could hide a vault that is out of
   * band. The drift between two sweeps is at most the faster of the two rates times the sweep interval, so the
   * margin must cover that: 10 bps covers a 100% APR for about 8.7 hours (`maxSweepSeconds`). A larger margin only
   * costs the bot a few more vaults to read with the lens each pass, which then decides from their real status.
   */
  marginBps?: number;
  /** The factory's `policyBounds().minHFFloor` (see `triggerEntry`); 0 when absent. */
  minHFFloor?: bigint;
}

export const DEFAULT_TRIGGER_MARGIN_BPS = 10;

const YEAR_SECONDS = 365 * 24 * 3600;

/** The longest sweep interval whose interest drift, at `maxAprBps` (simple rate), stays within `marginBps`. */
export function maxSweepSeconds(marginBps: number, maxAprBps: number): number {
  return (marginBps / maxAprBps) * YEAR_SECONDS;
}

export class TriggerIndex {
  readonly marginBps: number;
  readonly minHFFloor: bigint;
  private readonly entries = new Map<string, TriggerEntry>();
  /** Vaults whose last status had `ok` false: the bot reads these with the lens every pass, as it does now. */
  readonly unreadable = new Set<string>();
  private readonly lows = new SortedKeys();
  private readonly highs = new SortedKeys();
  private pair: string | undefined;

  constructor(options: TriggerIndexOptions = {}) {
    this.marginBps = options.marginBps ?? DEFAULT_TRIGGER_MARGIN_BPS;
    this.minHFFloor = options.minHFFloor ?? 0n;
    if (!(this.marginBps >= 0 && this.marginBps < BPS)) throw new Error("triggers: marginBps must be in [0, 10000)");
  }

  /** Vaults with a trigger (automated, with debt, readable). */
  get size(): number {
    return this.entries.size;
  }

  entry(vault: string): TriggerEntry | undefined {
    return this.entries.get(vault);
  }

  /** Replaces the whole index with these statuses, all read at `prices`. */
  build(statuses: Iterable<TriggerStatus>, prices: PairPrices): void {
    this.entries.clear();
    this.unreadable.clear();
    this.pair = undefined;
    const lows: number[] = [];
    const lowVaults: string[] = [];
    const highs: number[] = [];
    const highVaults: string[] = [];
    for (const s of statuses) {
      const e = this.derive(s, prices);
      if (e === undefined) continue;
      this.entries.set(e.vault, e);
      lows.push(e.low);
      lowVaults.push(e.vault);
      if (e.high !== Infinity) {
        highs.push(e.high);
        highVaults.push(e.vault);
      }
    }
    this.lows.reset(lows, lowVaults);
    this.highs.reset(highs, highVaults);
  }

  /**
   * The periodic re-derivation from fresh lens reads of every vault (call it every M passes): it removes the interest
   * drift the margin has been covering since the last sweep. The same as `build`.
   */
  sweep(statuses: Iterable<TriggerStatus>, prices: PairPrices): void {
    this.build(statuses, prices);
  }

  /** Re-derives one vault after one of its events, from its status read at `prices`. */
  update(status: TriggerStatus, prices: PairPrices): void {
    this.remove(status.vault);
    const e = this.derive(status, prices);
    if (e === undefined) return;
    this.entries.set(e.vault, e);
    this.lows.insert(e.low, e.vault);
    if (e.high !== Infinity) this.highs.insert(e.high, e.vault);
  }

  /** Drops a vault (absent: nothing to do). */
  remove(vault: string): void {
    this.unreadable.delete(vault);
    const e = this.entries.get(vault);
    if (e === undefined) return;
    this.entries.delete(vault);
    this.lows.remove(e.low, vault);
    if (e.high !== Infinity) this.highs.remove(e.high, vault);
  }

  /** The vaults whose trigger is crossed at ratio r, within the margin: O(log N + k). */
  query(r: number): TriggerHits {
    if (!(r > 0 && r < Infinity)) throw new Error(`triggers: ratio ${r} is not a positive finite number`);
    const m = this.marginBps / BPS;
    // r <= low·(1 + m) <=> low >= r / (1 + m); r >= high·(1 - m) <=> high <= r / (1 - m).
    return { deleverage: this.lows.atLeast(r / (1 + m)), leverage: this.highs.atMost(r / (1 - m)) };
  }

  private derive(status: TriggerStatus, prices: PairPrices): TriggerEntry | undefined {
    const pair = `${status.collateralAsset}/${status.debtAsset}`.toLowerCase();
    if (this.pair === undefined) this.pair = pair;
    else if (pair !== this.pair)
      throw new Error(`triggers: ${status.vault} is a ${pair} vault in a ${this.pair} index`);
    if (!status.ok) {
      this.unreadable.add(status.vault);
      return undefined;
    }
    return triggerEntry(status, prices, this.minHFFloor);
  }
}

/** The lens's `scan`, as typechain exposes it (structural, so this module needs no bindings). */
export interface ScanLens {
  scan(factory: string, start: bigint, count: bigint): Promise<readonly TriggerStatus[]>;
}

/** Every status of the factory's registry, `pageSize` vaults per `eth_call`: what `sweep` takes. */
export async function scanAll(
  lens: ScanLens,
  factory: string,
  total: bigint,
  pageSize = 100n,
): Promise<TriggerStatus[]> {
  const out: TriggerStatus[] = [];
  for (let start = 0n; start < total; start += pageSize) out.push(...(await lens.scan(factory, start, pageSize)));
  return out;
}
