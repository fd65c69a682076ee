/** `keeper:simulate`'s terminal output: the run's setting, the summary table (one column per policy), the timings. */
import type { SimulationOptions, SimulationSetup, SimulationTimings } from "../../lib/simulation/engine";
import type { ComparedResult } from "../../lib/simulation/baselines";
import type { MonteCarloSummary, ShardResult } from "../../lib/simulation/montecarlo";
import type { PolicyName } from "../../lib/simulation/policies";
import type { SimulationResult } from "../../lib/simulation/result";
import type { MarketStressReport } from "../../lib/simulation/market";
import { STRESS_KINDS, type StressKind } from "../../lib/simulation/stress";
import { BLOCK_SECONDS } from "../../lib/simulation/keepers";
import { EWMA_HALF_LIFE_SECONDS } from "../../lib/simulation/volatility";
import * as fmt from "../shared/format";

const DASH = "–";

/** Seconds from the first warm-up point to the first replayed one (the warm-up's returns end at the replay). */
const warmupSpan = (path: SimulationOptions["path"]): number => {
  const w = path.warmup ?? [];
  return w.length === 0 ? 0 : path.points[0].timestamp - w[0].timestamp;
};

const dollars = (usd: number): string =>
  `${usd < 0 ? "-" : ""}$${Math.abs(usd).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number): string => n.toLocaleString("en-US");
const seconds = (s: number): string => fmt.duration(BigInt(Math.round(s)));
const hours = (s: number): string => (s > 0 && s % 3_600 === 0 ? `${s / 3_600} h` : seconds(s));
const percent = (fraction: number): string => `${Number((fraction * 100).toPrecision(4))}%`;
const hf = (n: number): string => n.toFixed(2);

/** Lines that describe the run before it starts: the path, the vaults, the keepers, the volatility band. */
export function settingLines(
  options: Pick<SimulationOptions, "path" | "source" | "seed" | "stress">,
  setup: SimulationSetup,
): string[] {
  const points = options.path.points;
  const prices = points.map((p) => p.price);
  const span = points[points.length - 1].timestamp - points[0].timestamp;
  const deposits = setup.population.map((v) => Number(v.deposit / 10n ** 16n) / 100);
  const lines = [
    `Scenario    ${options.path.name} (${options.source === "scenario" ? "built-in" : options.source}) · ` +
      `${points.length} steps over ${seconds(span)} · ${dollars(prices[0])} → ${dollars(prices[prices.length - 1])} ` +
      `(low ${dollars(Math.min(...prices))}) · seed ${options.seed}`,
    `Vaults      ${setup.population.length}, one per owner · ${Math.min(...deposits)}-${Math.max(...deposits)} WETH ` +
      `deposited · static opens at reactive's 1.50; each other policy is also matched by static opened at its ` +
      `target`,
  ];
  if (setup.paths.length > 1 || setup.paths[0] !== 0) {
    lines.push(
      `Paths       ${setup.paths.length} here (${setup.paths[0]}-${setup.paths[setup.paths.length - 1]}): path 0 is ` +
        `the scenario, the others seeded variants of it`,
    );
  }
  // Under gas stress a keeper pays the base fee plus its tip, up to its max fee: its constant gas price is unused.
  const gasStress = options.stress.has("gas");
  for (const k of setup.keepers) {
    const gas = gasStress
      ? `tip ${fmt.fixed(k.tip, 9, 1)} gwei · max fee ${fmt.fixed(k.maxFee, 9, 1)} gwei`
      : `gas ${fmt.fixed(k.gasPrice, 9, 1)} gwei`;
    lines.push(`Keeper      ${k.name}: latency ${k.latency} s · ${gas} · least profit ${fmt.usd(k.minProfitBase)}`);
  }
  const band = setup.volatility;
  if (band !== undefined) {
    lines.push(
      `Volatility  σ ${percent(band.sigmaAnnual)} a year (EWMA, half-life ${EWMA_HALF_LIFE_SECONDS / 3_600} h, over ` +
        `the ${hours(warmupSpan(options.path))} warm-up before the replay) · horizon ` +
        `${seconds(band.horizonSeconds)} (slowest keeper ${band.slowestLatency} s + deleverage TWAP window ` +
        `${band.horizonSeconds - band.slowestLatency - BLOCK_SECONDS} s + one block ${BLOCK_SECONDS} s) · ` +
        `survival ${percent(band.survival)} → band ` +
        `${fmt.fixed(band.policy.minHF, 18, 2)} / ${fmt.fixed(band.policy.targetHF, 18, 2)} / ` +
        `${fmt.fixed(band.policy.maxHF, 18, 2)}`,
    );
  }
  return lines;
}

type Row = [label: string, cell: (p: ComparedResult) => string];

const signedPct = (x: number | null): string => (x === null ? DASH : `${x > 0 ? "+" : ""}${x.toFixed(2)}%`);

const ROWS: Row[] = [
  [
    "band (min/target/max)",
    (p) =>
      p.band === null ? "automation paused" : `${hf(p.band.minHF)} / ${hf(p.band.targetHF)} / ${hf(p.band.maxHF)}`,
  ],
  ["vaults liquidated", (p) => `${p.liquidations} (${p.liquidationCalls} calls)`],
  ["liquidation penalty", (p) => dollars(p.liquidationPenaltyUsd)],
  ["rebalances", (p) => count(p.rebalances)],
  ["rebalance cost", (p) => dollars(p.rebalanceCostUsd)],
  ["keeper rewards", (p) => dollars(p.keeperRewardsUsd)],
  ["keeper gas", (p) => `${count(p.gasUsed)} (${dollars(p.keeperGasCostUsd)})`],
  [
    "slippage mean / worst",
    (p) =>
      p.slippageMeanBps === null ? DASH : `${p.slippageMeanBps.toFixed(2)} / ${p.slippageWorstBps?.toFixed(2)} bps`,
  ],
  ["worst HF", (p) => p.worstHF.toFixed(4)],
  [
    "response mean / worst",
    (p) =>
      p.responseBlocksMean === null ? DASH : `${p.responseBlocksMean.toFixed(1)} / ${p.responseBlocksWorst} blocks`,
  ],
  ["equity at start", (p) => dollars(p.equityStartUsd)],
  ["equity at end", (p) => dollars(p.equityEndUsd)],
  ["equity change", (p) => `${p.equityChangePct.toFixed(2)}%`],
  ["opened at HF", (p) => hf(p.openHF)],
  ["equity vs matched static", (p) => signedPct(p.equityVsStaticPct)],
  ["equity vs holding", (p) => signedPct(p.equityVsHoldPct)],
  ["kicks / cancels", (p) => `${count(p.kicks)} / ${count(p.cancels)}`],
  ["guard delays", (p) => count(p.guardDelays)],
  [
    "failures",
    (p) => {
      const entries = Object.entries(p.failures);
      return entries.length === 0 ? "0" : entries.map(([name, n]) => `${name} ×${n}`).join(", ");
    },
  ],
  ["out of band at end", (p) => count(p.outOfBandAtEnd)],
];

const gwei = (x: number | null): string => (x === null ? DASH : x.toFixed(2));
const weth = (x: number): string => `${Number(x.toFixed(4))} WETH`;
/** A cell from the market report, `–` where a run has none. */
const market =
  (cell: (m: MarketStressReport) => string) =>
  (p: ComparedResult): string =>
    p.market === null ? DASH : cell(p.market);

/** What each stress did: its rows follow the table's, and only for the stresses that were on. */
export const STRESS_ROWS: Record<StressKind, Row[]> = {
  gas: [
    [
      "base fee mean / max",
      (p) => (p.baseFeeGweiMean === null ? DASH : `${gwei(p.baseFeeGweiMean)} / ${gwei(p.baseFeeGweiMax)} gwei`),
    ],
    ["priced out / unprofitable", (p) => `${count(p.pricedOut)} txs / ${count(p.unprofitable)} vault-steps`],
    [
      "lost races (gas)",
      (p) => `${count(p.lostRaces)} (${count(p.lostRaceGasUsed)} gas, ${dollars(p.lostRaceGasCostUsd)})`,
    ],
  ],
  oracle: [
    ["oracle rounds (heartbeat)", market((m) => `${count(m.oracleRounds)} (${count(m.oracleHeartbeatRounds)})`)],
    ["oracle gap max", market((m) => `${m.oracleGapMaxBps.toFixed(2)} bps`)],
  ],
  liquidity: [
    ["2% depth start → worst", market((m) => `${dollars(m.depthStartUsd)} → ${dollars(m.depthWorstUsd)}`)],
    ["LP share lowest", market((m) => percent(m.lpShareMin))],
    ["arbitrage volume", market((m) => `${dollars(m.arbitrageVolumeUsd)} (${count(m.arbitrageSwaps)} swaps)`)],
  ],
  sellers: [
    ["liquidators sold", market((m) => `${weth(m.liquidatorSoldWeth)} (${dollars(m.liquidatorSoldUsd)})`)],
    ["outside sell flow", market((m) => `${weth(m.outsideSoldWeth)} (${dollars(m.outsideSoldUsd)})`)],
    ["market impact", market((m) => `${m.marketImpactPct.toFixed(2)}%`)],
  ],
  downtime: [
    [
      "keeper downtime (outage)",
      (p) => {
        const down = Object.values(p.keepers).reduce((a, k) => a + k.downtimeSeconds, 0);
        const outage =
          p.correlatedOutage === null ? DASH : p.correlatedOutage ? "correlated outage" : "independent outages";
        return `${seconds(down)} (${outage})`;
      },
    ],
  ],
};

/** The table's rows for a run under `stress`: the metrics, then each stress's in the order of STRESS_KINDS. */
export function tableRows(stress: readonly StressKind[]): Row[] {
  return [...ROWS, ...STRESS_KINDS.filter((k) => stress.includes(k)).flatMap((k) => STRESS_ROWS[k])];
}

/** Pads a grid of cells into aligned columns, two spaces apart. */
function table(grid: readonly (readonly string[])[]): string[] {
  const widths = grid[0].map((_, c) => Math.max(...grid.map((row) => row[c].length)));
  return grid.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
}

/** The columns of the tables: each policy, then each matched baseline as `static@<hf> (≙ policy)`. */
function columns(result: SimulationResult): { label: string; result: ComparedResult; key: string }[] {
  const out: { label: string; result: ComparedResult; key: string }[] = [];
  for (const [name, p] of Object.entries(result.policies) as [PolicyName, ComparedResult][]) {
    out.push({ label: name, result: p, key: name });
  }
  for (const [name, p] of Object.entries(result.baselines) as [PolicyName, ComparedResult][]) {
    out.push({ label: `static@${hf(p.openHF)} (≙ ${name})`, result: p, key: `baseline:${name}` });
  }
  return out;
}

/** The summary table: one row per metric, one column per policy and baseline; then each keeper's wins per policy. */
export function summaryLines(result: SimulationResult): string[] {
  const cols = columns(result);
  const names = cols.map((c) => c.label);
  const policies = cols.map((c) => c.result);
  const gasStress = result.stress.includes("gas");
  const metrics = table([
    ["", ...names],
    ...tableRows(result.stress).map(([label, cell]) => [label, ...policies.map(cell)]),
  ]);
  const keepers = table([
    ["keeper: rebalances · rewards · gas cost", ...names],
    ...result.keepers.map((k) => [
      `${k.name} (${k.latencySeconds} s, ${gasStress ? `tip ${k.tipGwei} / max ${k.maxFeeGwei}` : k.gasPriceGwei} ` +
        `gwei, ≥ ${dollars(k.minProfitUsd)})`,
      ...policies.map((p) => {
        const t = p.keepers[k.name];
        return t === undefined || (t.executions === 0 && t.kicks === 0)
          ? DASH
          : `${count(t.executions)} · ${dollars(t.rewardsUsd)} · ${dollars(t.gasCostUsd)}`;
      }),
    ]),
  ]);
  const h = result.hold;
  const stress = result.stress.length === 0 ? "none" : result.stress.join(", ");
  return [
    ...metrics,
    "",
    `Holding     the deposits unlevered: ${dollars(h.equityStartUsd)} → ${dollars(h.equityEndUsd)} ` +
      `(${h.equityChangePct.toFixed(2)}%) · stress: ${stress}`,
    "",
    ...keepers,
  ];
}

const interval = (m: MonteCarloSummary): string => {
  const p = m.liquidationProbability;
  return `${percent(p.estimate)} [${percent(p.low)}, ${percent(p.high)}] (${count(p.liquidated)}/${count(p.trials)})`;
};
const meanP5 = (x: { mean: number; p5: number } | null): string =>
  x === null ? DASH : `${x.mean.toFixed(2)}% / ${x.p5.toFixed(2)}%`;

/** The Monte Carlo over the paths, when there is more than one: one column per policy and baseline. */
export function monteCarloLines(result: SimulationResult): string[] {
  const mc = result.montecarlo;
  if (mc.paths < 2) return [];
  const cols: { label: string; m: MonteCarloSummary }[] = [];
  for (const [name, m] of Object.entries(mc.policies) as [PolicyName, MonteCarloSummary][])
    cols.push({ label: name, m });
  for (const [name, m] of Object.entries(mc.baselines) as [PolicyName, MonteCarloSummary][]) {
    cols.push({ label: `static (≙ ${name})`, m });
  }
  const rows: [string, (m: MonteCarloSummary) => string][] = [
    ["vaults liquidated, 95% CI", interval],
    ["equity change mean / p5", (m) => meanP5(m.equityChange)],
    [
      "worst HF p5 / p50 / p95",
      (m) => `${m.worstHF.p5.toFixed(4)} / ${m.worstHF.p50.toFixed(4)} / ${m.worstHF.p95.toFixed(4)}`,
    ],
    ["vs matched static mean / p5", (m) => meanP5(m.equityVsStaticPct)],
    ["vs holding mean / p5", (m) => meanP5(m.equityVsHoldPct)],
  ];
  return [
    "",
    `Monte Carlo over ${mc.paths} paths (path 0 above; liquidation probability: vaults liquidated at least once ` +
      `over vaults × paths, Wilson interval)`,
    ...table([
      ["", ...cols.map((c) => c.label)],
      ...rows.map(([label, cell]) => [label, ...cols.map((c) => cell(c.m))]),
    ]),
  ];
}

/** A shard's slice: one line per path and policy. */
export function shardLines(shard: ShardResult): string[] {
  const lines = [`Shard ${shard.shard.index}/${shard.shard.count} of ${shard.paths} paths:`];
  for (const run of shard.runs) {
    const parts = Object.entries({ ...run.policies }).map(
      ([name, p]) => `${name} ${p.liquidations} liquidated, equity ${p.equityChangePct.toFixed(2)}%`,
    );
    lines.push(`  path ${run.path} (low ${dollars(run.scenario.lowPrice)}): ${parts.join(" · ")}`);
  }
  lines.push("Merge the slices with: npx hardhat keeper:merge --out merged.json <slice.json …>");
  return lines;
}

/** Where the time went (wall clock; never in the JSON). */
export function timingLines(t: SimulationTimings): string[] {
  const perPolicy = Object.entries(t.policySeconds)
    .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
    .join(" · ");
  const phases = Object.entries(t.phases)
    .map(([phase, s]) => `${phase} ${s.toFixed(1)} s`)
    .join(" · ");
  const lines = [
    `Time        ${seconds(t.totalSeconds)} (${t.totalSeconds.toFixed(1)} s): setup ${t.setupSeconds.toFixed(1)} s · ${perPolicy}`,
    `Phases      ${phases} (lens reads are part of keepers)`,
    `Speed       ${t.msPerPolicyStep.toFixed(1)} ms per policy-step (${count(t.policySteps)} steps over every run and path, ` +
      `opening included)`,
  ];
  if (t.workers !== undefined) {
    lines.push(
      `Workers     ${t.workers} processes: ${(t.wallMsPerPolicyStep ?? 0).toFixed(1)} ms of wall time per policy-step, ` +
        `start-up included`,
    );
  }
  return lines;
}
