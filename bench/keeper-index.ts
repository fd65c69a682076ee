/**
 * Trigger-index benchmark: a keeper's index (lib/keeper/triggers.ts) over 100,000 synthetic WETH/USDC vaults, random
 * but seeded (collateral value, LT, band, HF within the band; some paused, some without debt). Times, best of RUNS:
 * (a) `build` from 100,000 lens-shaped statuses, (b) `query` for the vaults to act on after a 10% move of WETH, down
 * and up, and (c) one `update`. Checks each query against the brute-force band test of every vault, then merges
 * `{"keeperIndex": {...}}` into reports/gas.json, keeping every other key. Plain Node: no chain, no compile.
 */
import { performance } from "node:perf_hooks";

import { priceRatio, TriggerIndex, type PairPrices, type TriggerStatus } from "../lib/keeper/triggers";
import { Random } from "../lib/simulation/random";
import { mergeReport } from "./report";

const VAULTS = 100_000;
const RUNS = 5;
const UPDATES = 10_000;
const SEED = 17;
const MOVE_BPS = 1_000n;
const USD = 10n ** 8n;
const PRICES: PairPrices = { collateral: 2_000n * USD, debt: USD };
const WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2";
const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const WAD = 10n ** 18n;
const BPS = 10_000n;

/** A WAD value from a number with 4 decimals. */
const wad = (x: number): bigint => BigInt(Math.round(x * 1e4)) * 10n ** 14n;

function syntheticVaults(random: Random): TriggerStatus[] {
  const out: TriggerStatus[] = [];
  for (let i = 0; i < VAULTS; i++) {
    // $100 to $10M of collateral, log-uniform; LT 70% to 86%; a band from minHF 1.05-2.0, 0.1-1.0 wide.
    const collateralBase = BigInt(Math.round(10 ** (2 + 5 * random.next()) * 1e8));
    const lt = BigInt(7_000 + Math.floor(random.next() * 1_600));
    const minHF = 1.05 + 0.95 * random.next();
    const maxHF = minHF + 0.1 + 0.9 * random.next();
    const hf = minHF + (maxHF - minHF) * random.next();
    const kind = random.next();
    const debtBase = kind < 0.02 ? 0n : (collateralBase * lt * WAD) / (BPS * wad(hf));
    out.push({
      vault: `0x${i.toString(16).padStart(40, "0")}`,
      collateralAsset: WETH,
      debtAsset: USDC,
      policy: { minHF: wad(minHF), maxHF: wad(maxHF) },
      position: { collateralBase, debtBase, liquidationThresholdBps: lt },
      automationPaused: kind >= 0.02 && kind < 0.04,
      ok: true,
    });
  }
  return out;
}

/** The vaults out of band at `prices`, one by one: the HF scaled by the collateral's move, against the band. */
function bruteForce(statuses: readonly TriggerStatus[], moved: PairPrices): number {
  let n = 0;
  for (const s of statuses) {
    const { collateralBase, debtBase, liquidationThresholdBps } = s.position;
    if (s.automationPaused || debtBase === 0n) continue;
    const hf =
      (collateralBase * moved.collateral * liquidationThresholdBps * WAD) / (PRICES.collateral * BPS * debtBase);
    if (hf < s.policy.minHF || hf > s.policy.maxHF) n++;
  }
  return n;
}

/** The best of `runs` timings of `fn`, ms. */
function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const round = (ms: number, digits = 3): number => Number(ms.toFixed(digits));

function main(): void {
  const random = new Random(SEED);
  const statuses = syntheticVaults(random);
  const index = new TriggerIndex();
  const buildMs = best(RUNS, () => index.build(statuses, PRICES));

  const picks: Record<string, number> = {};
  const queryMs: Record<string, number> = {};
  for (const [name, factor] of [
    ["down", BPS - MOVE_BPS],
    ["up", BPS + MOVE_BPS],
  ] as const) {
    const moved = { ...PRICES, collateral: (PRICES.collateral * factor) / BPS };
    const r = priceRatio(moved);
    let hits = { deleverage: [] as string[], leverage: [] as string[] };
    queryMs[name] = best(RUNS * 4, () => {
      hits = index.query(r);
    });
    picks[name] = hits.deleverage.length + hits.leverage.length;
    const exact = bruteForce(statuses, moved);
    // The index may add vaults within its margin of a trigger; it must never have fewer.
    if (picks[name] < exact) throw new Error(`${name}: the index picks ${picks[name]}, the band test ${exact}`);
    console.log(
      `10% ${name}: ${picks[name]} vaults picked (${exact} out of band by brute force) in ${queryMs[name].toFixed(3)} ms`,
    );
  }

  // Updates: each vault's status read again (the same), as the bot would on one of its events.
  const updateMs = best(RUNS, () => {
    for (let i = 0; i < UPDATES; i++) index.update(statuses[(i * 7_919) % VAULTS], PRICES);
  });

  console.log(`build of ${VAULTS} vaults (${index.size} indexed): ${buildMs.toFixed(1)} ms (best of ${RUNS})`);
  console.log(`update: ${((updateMs / UPDATES) * 1000).toFixed(1)} µs each (best of ${RUNS} x ${UPDATES})`);

  mergeReport({
    keeperIndex: {
      vaults: VAULTS,
      indexed: index.size,
      seed: SEED,
      runs: RUNS,
      marginBps: index.marginBps,
      buildMs: round(buildMs, 1),
      queryDownMs: round(queryMs.down),
      queryUpMs: round(queryMs.up),
      picksDown: picks.down,
      picksUp: picks.up,
      updateUs: round((updateMs / UPDATES) * 1000, 1),
    },
  });
}

main();
