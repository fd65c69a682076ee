import { expect } from "chai";
import fs from "node:fs";
import hre from "hardhat";

import { roleAddress } from "../../lib/market";
import type { SimulationOutcome } from "../../lib/simulation/engine";
import type { ComparedResult } from "../../lib/simulation/baselines";
import type { FrontierResult } from "../../lib/simulation/frontier";
import type { SimulationResult } from "../../lib/simulation/result";
import type { FrontierRecommendation } from "../../tasks/policy/frontier";
import { workerError } from "../../tasks/simulate/run";
import { expectTaskError, runTask, tmpFile } from "./helpers";

/**
 * A small flash-crash run: big enough for liquidations and rebalances, small enough for the suite (~15 s). In the calm
 * market (`--stress none`): under gas stress the crash's base fee is above what the owners' 1% reward cap pays, and no
 * keeper rebalances at all (test/simulation/gas.spec.ts shows that failure); the stresses have their own specs.
 */
const SMALL = { scenario: "flash-crash", vaults: 6, steps: 100, seed: 1, stress: "none" };

/** The table's stress rows, by stress (tasks/simulate/report.ts). */
const STRESS_ROWS = {
  gas: ["base fee mean / max", "priced out / unprofitable", "lost races (gas)"],
  oracle: ["oracle rounds (heartbeat)", "oracle gap max"],
  liquidity: ["2% depth start → worst", "LP share lowest", "arbitrage volume"],
  sellers: ["liquidators sold", "outside sell flow", "market impact"],
  downtime: ["keeper downtime (outage)"],
};
const STRESS_LABELS = Object.values(STRESS_ROWS).flat();
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const simulate = (args: Record<string, unknown>) => runTask<SimulationOutcome>("keeper:simulate", args);

function full(outcome: SimulationOutcome): SimulationResult {
  if (outcome.result === null) throw new Error("only a shard ran");
  return outcome.result;
}

function policy(outcome: SimulationOutcome, name: "static" | "reactive" | "volatility"): ComparedResult {
  const p = full(outcome).policies[name];
  if (p === undefined) throw new Error(`no ${name} result`);
  return p;
}

describe("keeper:simulate", () => {
  describe("flags", () => {
    it("--prices with a bad file names the line", async () => {
      const file = tmpFile("simulate-bad.csv");
      fs.writeFileSync(file, "timestamp,price\n1700000000,2000\n1700000060,-5\n");
      await expectTaskError(
        "keeper:simulate",
        { prices: file, policies: "static,reactive" },
        /simulate-bad\.csv line 3: price "-5" is not a decimal number/,
      );
      await expectTaskError(
        "keeper:simulate",
        { prices: tmpFile("missing.csv"), policies: "static,reactive" },
        /missing\.csv: cannot read it \(no such file\)/,
      );
    });

    it("an unknown scenario lists the valid ones", async () => {
      await expectTaskError(
        "keeper:simulate",
        { scenario: "luna-2022" },
        /^Unknown scenario "luna-2022": use one of black-thursday-2020, may-2021, ftx-2022, oct-2025, flash-crash, gbm$/,
      );
    });

    it("refuses bad flags before deploying anything, naming the flag", async () => {
      const csv = tmpFile("simulate-ok.csv");
      fs.writeFileSync(csv, "timestamp,price\n1700000000,2000\n1700000060,1990\n");
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ scenario: "gbm", prices: csv }, /^Pass either --scenario or --prices, not both$/],
        [
          { prices: csv, steps: 50 },
          /^--steps applies to a built-in --scenario; a --prices file has one step per row$/,
        ],
        [{ prices: csv, vol: "0.8" }, /^--vol applies to a built-in --scenario/],
        [{ steps: 1 }, /^--steps must be a whole number from 2 to 5000, got 1$/],
        [{ vaults: 0 }, /^--vaults must be a whole number from 1 to 500, got 0$/],
        [{ keepers: 11 }, /^--keepers must be a whole number from 1 to 10, got 11$/],
        [{ seed: -1 }, /^--seed must be a whole number 0 or more, got -1$/],
        [
          { policies: "static,greedy" },
          /^Unknown policy "greedy" in --policies: use some of static, reactive, volatility$/,
        ],
        [{ policies: "reactive,reactive" }, /^--policies names reactive twice$/],
        [{ policies: " , " }, /^--policies is empty/],
        [{ outage: "sometimes" }, /^--outage must be correlated or independent, got "sometimes"$/],
        [
          { stress: "gas,oracle", outage: "independent" },
          /^--outage applies to the downtime stress: add downtime to --stress or leave it out$/,
        ],
        [
          { keeperMaxFee: "400" },
          /^--keeper-max-fee must be min-max in whole gwei, 1 <= min <= max <= 100000, e\.g\. 80-400; got "400"$/,
        ],
        [{ keeperMaxFee: "500-100" }, /^--keeper-max-fee must be min-max in whole gwei/],
        [{ keeperMaxFee: "0-100" }, /^--keeper-max-fee must be min-max in whole gwei/],
        [
          { stress: "oracle", keeperMaxFee: "80-400" },
          /^--keeper-max-fee applies to the gas stress: add gas to --stress or leave it out$/,
        ],
        [{ survival: "1.5" }, /^--survival must be a probability above 0.5 and below 1/],
        [{ scenario: "gbm", vol: "80" }, /^--vol 80 is 8000% a year: give it as a fraction/],
        [{ chart: tmpFile("hf.png") }, /^--chart .*hf\.png: expected a \.svg file$/],
        [
          { json: "/no/such/folder/out.json" },
          /^--json \/no\/such\/folder\/out\.json: the folder \/no\/such\/folder does not exist$/,
        ],
        [{ scenario: "flash-crash", steps: 20_000 }, /^--steps must be a whole number from 2 to 5000/],
        [
          { prices: csv },
          /^The volatility policy sizes its band on a warm-up before the replay: pass --warmup N \(the CSV's first N rows\) or leave volatility out of --policies$/,
        ],
        [
          { warmup: 10 },
          /^--warmup applies to a --prices file \(its first N rows as warm-up\), not to a built-in scenario$/,
        ],
        [{ prices: csv, warmup: 1 }, /^--warmup must be a whole number of rows, at least 2, got 1$/],
        [
          { prices: csv, warmup: 2 },
          /simulate-ok\.csv: 2 rows of prices; 2 of warm-up and at least 2 to replay are needed$/,
        ],
      ];
      for (const [flags, pattern] of cases) await expectTaskError("keeper:simulate", flags, pattern);
    });

    it("deploys from role accounts of its own, and refuses to run once something else has sent from them", async () => {
      // A market deployed by the tests' shared roles leaves the simulation's addresses (and so its results) alone.
      const admin = roleAddress("admin", "simulation");
      expect(admin).to.not.equal(roleAddress("admin"));
      const snapshot = await hre.network.provider.request({ method: "evm_snapshot" });
      try {
        await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [admin] });
        await hre.network.provider.request({ method: "hardhat_setBalance", params: [admin, "0xDE0B6B3A7640000"] });
        const signer = await hre.ethers.getSigner(admin);
        await (await signer.sendTransaction({ to: admin, value: 0n })).wait();
        await expectTaskError(
          "keeper:simulate",
          { vaults: 1, steps: 2, keepers: 1 },
          new RegExp(
            `^The simulation's admin account ${admin} has already sent 1 transactions on this chain, so its market ` +
              "would not deploy at the usual addresses: run the simulation on a fresh in-process chain$",
          ),
        );
      } finally {
        await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
      }
    });

    it("refuses bad --paths, --workers, --shard and --events in one line each, before deploying", async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ paths: 0 }, /^--paths must be a whole number from 1 to 10000, got 0$/],
        [{ paths: 4, workers: 0 }, /^--workers must be a whole number from 1 to 64, got 0$/],
        [{ paths: 4, shard: "2", json: tmpFile("s.json") }, /^--shard must be i\/n like 1\/4, got "2"$/],
        [{ paths: 4, shard: "3/2", json: tmpFile("s.json") }, /^--shard 3\/2: i must be from 1 to n, and n 1 or more$/],
        [{ paths: 2, shard: "1/3", json: tmpFile("s.json") }, /^--shard 1\/3: 3 shards for 2 paths; use n <= --paths$/],
        [
          { paths: 4, shard: "1/2", workers: 2, json: tmpFile("s.json") },
          /^--shard runs one slice in this process: leave out --workers or pass --workers 1$/,
        ],
        [{ paths: 4, shard: "1/2" }, /^--shard needs --json <file>: the slice is written there for keeper:merge$/],
        [
          { paths: 4, shard: "2/2", json: tmpFile("s.json"), chart: tmpFile("c.svg") },
          /^--chart draws path 0, which only shard 1\/2 runs$/,
        ],
        [{ events: tmpFile("events.txt") }, /^--events .*events\.txt: expected a \.csv file$/],
      ];
      for (const [flags, pattern] of cases) await expectTaskError("keeper:simulate", flags, pattern);
    });
  });

  describe("a small flash-crash run", () => {
    let first: SimulationOutcome;
    let firstJson: string;
    let output: string;
    const chart = tmpFile("simulate-hf.svg");

    before(async () => {
      const json = tmpFile("simulate-1.json");
      const run = await simulate({ ...SMALL, json, chart });
      first = run.result;
      output = run.output;
      firstJson = fs.readFileSync(json, "utf8");
    });

    it("the fast crash no longer outruns the price guard: reactive is delevered through it where static is liquidated", () => {
      // Before issue 16 the guard's 600 s TWAP refused every rebalance of this 1-minute flash crash (-29% in 20
      // minutes, a -42% wick) until the liquidator had acted; a sale of collateral now reads a 60 s TWAP, one way, so
      // keepers wait a minute at most (the wick's guard delays) and no stress stands in their way here.
      const s = policy(first, "static");
      const r = policy(first, "reactive");
      expect(s.liquidations).to.be.greaterThan(0);
      expect(s.liquidationPenaltyUsd).to.be.greaterThan(0);
      expect(s.worstHF).to.be.lessThan(1);
      expect(s.rebalances).to.equal(0);
      expect(s.kicks + s.gasUsed + s.keeperRewardsUsd).to.equal(0);
      expect(s.band).to.equal(null);

      expect(r.band).to.deep.equal({ minHF: 1.3, targetHF: 1.5, maxHF: 1.8 });
      expect(r.kicks).to.be.greaterThan(0);
      expect(r.rebalances).to.be.greaterThan(0);
      expect(r.liquidations).to.equal(0);
      expect(r.liquidationPenaltyUsd).to.equal(0);
      expect(r.worstHF).to.be.greaterThan(1);
      const rewards = Object.values(r.keepers).reduce((sum, k) => sum + k.rewardsUsd, 0);
      expect(rewards).to.be.closeTo(r.keeperRewardsUsd, 0.05);
      expect(output).to.match(new RegExp(`^guard delays +0 +${r.guardDelays.toLocaleString("en-US")} `, "m"));
      expect(output).to.match(
        new RegExp(`^vaults liquidated +${s.liquidations} \\(\\d+ calls\\) +${r.liquidations} `, "m"),
      );
    });

    it("matched baselines: static at reactive's 1.5, baselines.volatility at volatility's target, and holding", () => {
      const result = full(first);
      const band = result.volatilityBand;
      expect(policy(first, "static").openHF).to.equal(1.5);
      expect(policy(first, "reactive").openHF).to.equal(1.5);
      expect(policy(first, "volatility").openHF).to.equal(band?.targetHF);
      expect(Object.keys(result.baselines)).to.deep.equal(["volatility"]);
      const matched = result.baselines.volatility;
      expect(matched?.openHF).to.equal(band?.targetHF);
      expect(matched?.band).to.equal(null);
      expect(matched?.rebalances).to.equal(0);
      expect(matched?.equityVsStaticPct).to.equal(null);
      expect(policy(first, "static").equityVsStaticPct).to.equal(null);
      // Against a baseline left with no equity (bad debt) there is no percentage.
      const pct = (a: number, b: number) => (b > 0 ? Math.round((a / b - 1) * 10_000) / 100 : null);
      const r = policy(first, "reactive");
      const v = policy(first, "volatility");
      expect(r.equityVsStaticPct).to.equal(pct(r.equityEndUsd, policy(first, "static").equityEndUsd));
      expect(v.equityVsStaticPct).to.equal(pct(v.equityEndUsd, matched?.equityEndUsd ?? NaN));
      expect(r.equityVsHoldPct).to.equal(pct(r.equityEndUsd, result.hold.equityEndUsd));
      const { startPrice, endPrice } = result.scenario;
      expect(result.hold.equityChangePct).to.be.closeTo((endPrice / startPrice - 1) * 100, 0.01);
      expect(result.stress).to.deep.equal([]);
      const json = JSON.parse(firstJson) as Record<string, unknown>;
      expect(Object.keys(json)).to.deep.equal([
        "scenario",
        "vaults",
        "keepers",
        "volatilityBand",
        "stress",
        "outage",
        "policies",
        "baselines",
        "hold",
        "montecarlo",
      ]);
      expect(output).to.match(/opened at HF +1\.50 +1\.50 +\d\.\d\d +\d\.\d\d/);
      expect(output).to.match(/equity vs matched static +– +([-+]\d|–)/);
      expect(output).to.contain("equity vs holding");
      expect(output).to.contain(`static@${band?.targetHF.toFixed(2)} (≙ volatility)`);
      expect(output).to.match(/^Speed {7}[\d.]+ ms per policy-step/m);
    });

    it("derives the volatility band from the path and reports it", () => {
      const band = full(first).volatilityBand;
      expect(band).to.not.equal(null);
      // The slowest keeper, the 60 s deleverage TWAP window and one 12 s block.
      expect(band?.horizonSeconds).to.equal(Math.max(...full(first).keepers.map((k) => k.latencySeconds)) + 72);
      expect(policy(first, "volatility").band).to.deep.equal({
        minHF: band?.minHF,
        targetHF: band?.targetHF,
        maxHF: band?.maxHF,
      });
      expect(output).to.match(
        /^Volatility {2}σ [\d.]+% a year \(EWMA, half-life 6 h, over the 24 h warm-up before the replay\) · horizon .* \(slowest keeper \d+ s \+ deleverage TWAP window 60 s \+ one block 12 s\)/m,
      );
      expect(output).to.not.contain("realized over the path");
    });

    it("prints the table, the keepers and where the time went, and writes the JSON and the chart", () => {
      for (const row of ["vaults liquidated", "liquidation penalty", "rebalances", "keeper rewards", "worst HF"]) {
        expect(output).to.contain(row);
      }
      expect(output).to.match(/keeper-1 \(\d+ s, [\d.]+ gwei, ≥ \$[\d.]+\)/);
      // Without gas stress: the keeper's constant gas price.
      expect(output).to.match(/^Keeper {6}keeper-1: latency \d+ s · gas [\d.]+ gwei · least profit/m);
      // --stress none: no stress rows.
      for (const label of STRESS_LABELS) expect(output).to.not.contain(label);
      expect(output).to.match(/^Time {8}/m);
      const json = JSON.parse(firstJson) as { scenario: { name: string }; policies: Record<string, unknown> };
      expect(json.scenario.name).to.equal("flash-crash");
      expect(Object.keys(json.policies)).to.deep.equal(["static", "reactive", "volatility"]);
      // One path: the Monte Carlo summary of it alone, without a per-path list.
      expect(full(first).montecarlo.paths).to.equal(1);
      expect(full(first).montecarlo.runs).to.equal(undefined);
      // Wall-clock timings stay out of the file: it must be the same bytes on any machine.
      expect(firstJson).to.not.match(/totalSeconds|setupSeconds|phases/);
      const svg = fs.readFileSync(chart, "utf8");
      expect(svg).to.match(/^<svg/);
      for (const label of ["static", "reactive", "volatility", "liquidation"]) expect(svg).to.contain(`>${label}<`);
    });

    it("is deterministic: the same seed writes the same JSON bytes, another seed another result", async () => {
      const again = tmpFile("simulate-2.json");
      await simulate({ ...SMALL, json: again });
      expect(fs.readFileSync(again, "utf8")).to.equal(firstJson);
      const other = tmpFile("simulate-3.json");
      await simulate({ ...SMALL, seed: 2, json: other });
      expect(fs.readFileSync(other, "utf8")).to.not.equal(firstJson);
    });
  });

  it("--prices replays a CSV path, rescaled to the market's $2,000, for the policies asked", async () => {
    const file = tmpFile("simulate-dip.csv");
    // ETH at $3,000 falling 30% over an hour and back: the same relative moves from $2,000.
    const prices = [3_000, 2_800, 2_500, 2_200, 2_100, 2_400, 2_700, 2_900];
    fs.writeFileSync(file, `timestamp,price\n${prices.map((p, i) => `${1_700_000_000 + i * 600},${p}`).join("\n")}\n`);
    const { result } = await simulate({ prices: file, vaults: 3, policies: "static,reactive", stress: "none" });
    expect(full(result).scenario).to.include({ name: "simulate-dip", source: file, steps: 8, startPrice: 2_000 });
    expect(full(result).scenario.lowPrice).to.be.closeTo(1_400, 0.01);
    expect(Object.keys(full(result).policies)).to.deep.equal(["static", "reactive"]);
    expect(full(result).volatilityBand).to.equal(null);
    expect(policy(result, "reactive").rebalances).to.be.greaterThan(0);
  });
});

it("--prices --warmup N: the first N rows size the volatility band and are not replayed", async () => {
  const file = tmpFile("simulate-warmup.csv");
  // 30 rows of warm-up a minute apart (±0.5% wiggles), then 6 replayed rows falling 20%.
  const warm = Array.from({ length: 30 }, (_, i) => 2_000 * (1 + (i % 2 === 0 ? 0.005 : -0.005)));
  const replay = [2_000, 1_900, 1_800, 1_700, 1_650, 1_600];
  const rows = [...warm, ...replay].map((p, i) => `${1_700_000_000 + i * 60},${p}`);
  fs.writeFileSync(file, `timestamp,price\n${rows.join("\n")}\n`);
  const { result, output } = await simulate({
    prices: file,
    warmup: 30,
    vaults: 2,
    policies: "reactive,volatility",
    stress: "none",
  });
  expect(full(result).scenario.steps).to.equal(6);
  expect(full(result).volatilityBand).to.not.equal(null);
  expect(output).to.match(
    /^Volatility {2}σ [\d.]+% a year \(EWMA, half-life 6 h, over the 30m 00s warm-up before the replay\) · horizon .* \(slowest keeper \d+ s \+ deleverage TWAP window 60 s \+ one block 12 s\)/m,
  );
  expect(output).to.not.contain("realized over the path");
  // --stress none: no stress rows, and the keepers' constant gas price.
  for (const label of STRESS_LABELS) expect(output).to.not.contain(label);
  expect(output).to.match(/^Keeper {6}keeper-1: latency \d+ s · gas [\d.]+ gwei · least profit/m);
});

describe("keeper:simulate --paths (Monte Carlo)", () => {
  /** Three paths of a short flash crash: static, volatility and volatility's matched static on each. */
  const MC = { scenario: "flash-crash", vaults: 2, steps: 12, seed: 1, paths: 3, policies: "static,volatility" };
  const json = tmpFile("mc-1.json");
  const events = tmpFile("mc-1.csv");
  let single: SimulationResult;
  let singleJson: string;
  let singleCsv: string;
  let singleOutput: string;

  before(async () => {
    const run = await simulate({ ...MC, workers: 1, json, events });
    single = full(run.result);
    singleOutput = run.output;
    singleJson = fs.readFileSync(json, "utf8");
    singleCsv = fs.readFileSync(events, "utf8");
  });

  it("summarizes every policy and baseline over the paths: Wilson probability, equity mean/p5, worst-HF quantiles", () => {
    const mc = single.montecarlo;
    expect(mc.paths).to.equal(3);
    expect(mc.runs?.map((r) => r.path)).to.deep.equal([0, 1, 2]);
    expect(mc.runs?.[0].policies).to.deep.equal(single.policies);
    expect(Object.keys(mc.policies)).to.deep.equal(["static", "volatility"]);
    expect(Object.keys(mc.baselines)).to.deep.equal(["volatility"]);
    for (const m of [mc.policies.static, mc.policies.volatility, mc.baselines.volatility]) {
      if (m === undefined) throw new Error("missing summary");
      const p = m.liquidationProbability;
      expect(p.trials).to.equal(6);
      expect(p.low <= p.estimate && p.estimate <= p.high).to.equal(true);
      expect(m.worstHF.min <= m.worstHF.p50 && m.worstHF.p50 <= m.worstHF.max).to.equal(true);
      expect(m.equityChange.p5 <= m.equityChange.mean).to.equal(true);
    }
    const liquidated = (mc.runs ?? []).reduce((n, r) => n + (r.policies.volatility?.liquidations ?? 0), 0);
    expect(mc.policies.volatility?.liquidationProbability.liquidated).to.equal(liquidated);
    // The variants differ from the scenario.
    expect(mc.runs?.[1].scenario.lowPrice).to.not.equal(mc.runs?.[0].scenario.lowPrice);
  });

  it("under every stress (the default): a row per stress, the keepers' tip and max fee", () => {
    expect(single.stress).to.deep.equal(["gas", "oracle", "liquidity", "sellers", "downtime"]);
    for (const label of STRESS_LABELS) expect(singleOutput).to.match(new RegExp(`^${escape(label)} {2,}\\S`, "m"));
    const v = single.policies.volatility;
    if (v === undefined || v.market === null) throw new Error("no volatility result or market report");
    const row = (label: string) => singleOutput.split("\n").find((l) => l.startsWith(label)) ?? "";
    expect(row("base fee mean / max")).to.contain(
      `${v.baseFeeGweiMean?.toFixed(2)} / ${v.baseFeeGweiMax?.toFixed(2)} gwei`,
    );
    expect(row("priced out / unprofitable")).to.contain(`${v.pricedOut} txs / ${v.unprofitable} vault-steps`);
    expect(row("oracle rounds (heartbeat)")).to.contain(`${v.market.oracleRounds} (${v.market.oracleHeartbeatRounds})`);
    expect(row("keeper downtime (outage)")).to.match(/(correlated outage|independent outages)\)/);
    expect(row("market impact")).to.contain(`${v.market.marketImpactPct.toFixed(2)}%`);
    // Under gas stress a keeper pays the base fee plus its tip, up to its max fee: no constant gas price.
    const k = single.keepers[0];
    expect(singleOutput).to.match(
      new RegExp(`^Keeper {6}keeper-1: latency \\d+ s · tip [\\d.]+ gwei · max fee [\\d.]+ gwei · least profit`, "m"),
    );
    expect(singleOutput).to.not.match(/^Keeper .* · gas [\d.]+ gwei/m);
    expect(singleOutput).to.contain(`keeper-1 (${k.latencySeconds} s, tip ${k.tipGwei} / max ${k.maxFeeGwei} gwei`);
  });

  it("--events: one row per event, opens first, each policy and path", () => {
    const rows = singleCsv.trimEnd().split("\n");
    expect(rows[0]).to.equal("time,path,policy,vault,price,hf,action,keeper,costUsd");
    const cells = rows.slice(1).map((r) => r.split(","));
    const opens = cells.filter((c) => c[6] === "open");
    // 2 vaults × 3 runs × 3 paths.
    expect(opens).to.have.length(18);
    expect(new Set(cells.map((c) => c[1]))).to.deep.equal(new Set(["0", "1", "2"]));
    expect([...new Set(cells.map((c) => c[2]))]).to.include.members(["static", "volatility"]);
    const rebalances = cells.filter((c) => c[6] === "rebalance" && c[1] === "0" && c[2] === "volatility");
    expect(rebalances).to.have.length(single.policies.volatility?.rebalances ?? -1);
    const liquidations = cells.filter((c) => c[6] === "liquidation" && c[1] === "0" && c[2] === "static");
    expect(liquidations).to.have.length(single.policies.static?.liquidationCalls ?? -1);
    for (const c of cells) expect(Number(c[8])).to.be.at.least(-1e9);
  });

  it("--shard slices merged with keeper:merge give the same bytes; merge refuses a missing slice", async () => {
    const [a, b] = [tmpFile("mc-shard-1.json"), tmpFile("mc-shard-2.json")];
    const [ea, eb] = [tmpFile("mc-shard-1.csv"), tmpFile("mc-shard-2.csv")];
    const sliced = await simulate({ ...MC, shard: "2/2", json: b, events: eb });
    expect(sliced.result.result).to.equal(null);
    expect(sliced.output).to.contain("Shard 2/2 of 3 paths:");
    await simulate({ ...MC, shard: "1/2", json: a, events: ea });
    const merged = tmpFile("mc-merged.json");
    const mergedCsv = tmpFile("mc-merged.csv");
    await runTask("keeper:merge", { out: merged, events: mergedCsv, shards: [b, eb, a, ea] });
    expect(fs.readFileSync(merged, "utf8")).to.equal(singleJson);
    expect(fs.readFileSync(mergedCsv, "utf8")).to.equal(singleCsv);
    await expectTaskError("keeper:merge", { out: merged, shards: [b] }, /^Path 0 of 3 is missing: merge every shard$/);
    await expectTaskError("keeper:merge", { out: merged, shards: [json] }, /not a keeper:simulate --shard slice/);
    // Without --events slices, merging events is refused in one line.
    await expectTaskError(
      "keeper:merge",
      { out: merged, events: tmpFile("merged.csv"), shards: [b, a] },
      /^--events: 0 events CSVs for 2 slices; pass each slice's --events file$/,
    );
  });

  it("a failed worker is reported by its error's message, not by the stack frames under it", () => {
    const output = [
      "Running paths…",
      "SyntaxError: cache/npm-artifacts/WETH9.json: Unexpected end of JSON input",
      "    at JSON.parse (<anonymous>)",
      "    at Environment.run (runtime-environment.ts:184:14)",
    ].join("\n");
    expect(workerError(output)).to.equal(
      "Running paths… | SyntaxError: cache/npm-artifacts/WETH9.json: Unexpected end of JSON input",
    );
    expect(workerError("Error HH1: no config\n")).to.equal("Error HH1: no config");
  });

  it("--workers 2: child processes, the same JSON and events bytes as one process", async () => {
    const [j, e] = [tmpFile("mc-2.json"), tmpFile("mc-2.csv")];
    const run = await simulate({ ...MC, workers: 2, json: j, events: e });
    expect(run.output).to.match(/Running 3 paths in 2 worker processes/);
    expect(run.output).to.match(/^Workers {5}2 processes/m);
    expect(fs.readFileSync(j, "utf8")).to.equal(singleJson);
    expect(fs.readFileSync(e, "utf8")).to.equal(singleCsv);
  });
});

describe("keeper:frontier and policy:recommend --frontier", () => {
  const FRONTIER = {
    scenario: "flash-crash",
    vaults: 2,
    steps: 12,
    paths: 2,
    minHf: "1.3,1.1",
    seed: 1,
    keepers: 3,
    survival: "0.99",
    stress: "all",
  };
  const frontierJson = tmpFile("frontier.json");

  it("writes each buffer's reactive and matched static, volatility once, with Wilson intervals, and a chart", async () => {
    const json = frontierJson;
    const chart = tmpFile("frontier.svg");
    const { result, output } = await runTask<FrontierResult>("keeper:frontier", {
      ...FRONTIER,
      workers: 1,
      json,
      chart,
    });
    const file = JSON.parse(fs.readFileSync(json, "utf8")) as FrontierResult;
    expect(file).to.deep.equal(result);
    expect(file.paths).to.equal(2);
    expect(file.points.map((p) => [p.policy, p.matches ?? null, p.minHF])).to.deep.equal([
      ["reactive", null, 1.1],
      ["static", "reactive", 1.1],
      ["reactive", null, 1.3],
      ["static", "reactive", 1.3],
      ["volatility", null, file.volatilityBand?.minHF],
      ["static", "volatility", file.volatilityBand?.minHF],
    ]);
    expect(file.points[0].band).to.deep.equal({ minHF: 1.1, targetHF: 1.3, maxHF: 1.6 });
    expect(file.points[1].openHF).to.equal(1.3);
    for (const p of file.points) {
      expect(Object.keys(p.liquidationProbability)).to.deep.equal(["estimate", "low", "high", "liquidated", "trials"]);
      expect(p.liquidationProbability.trials).to.equal(4);
      expect(Object.keys(p.equityChange)).to.deep.equal(["mean", "p5"]);
    }
    expect(output).to.match(/^Frontier over 2 paths × 2 vaults of flash-crash/m);
    expect(fs.readFileSync(chart, "utf8")).to.match(/^<svg/);
    await expectTaskError(
      "keeper:frontier",
      {
        scenario: "flash-crash",
        minHf: "1.1,x",
        paths: 2,
        vaults: 2,
        keepers: 3,
        seed: 1,
        survival: "0.99",
        stress: "all",
      },
      /^--min-hf: "x" is not an HF with at most two decimals like 1\.2$/,
    );
  });

  it("--workers 2 and --shard slices merged give the same bytes as one process", async () => {
    const two = tmpFile("frontier-2.json");
    const run = await runTask<FrontierResult>("keeper:frontier", { ...FRONTIER, workers: 2, json: two });
    expect(run.output).to.match(/Running 2 paths in 2 worker processes \(keeper:frontier --shard i\/2\)/);
    expect(run.output).to.match(/^Workers {5}2 processes/m);
    expect(fs.readFileSync(two, "utf8")).to.equal(fs.readFileSync(frontierJson, "utf8"));
    const slice = tmpFile("frontier-shard-2.json");
    await runTask("keeper:frontier", { ...FRONTIER, shard: "2/2", json: slice });
    const one = tmpFile("frontier-shard-1.json");
    await runTask("keeper:frontier", { ...FRONTIER, shard: "1/2", json: one });
    const merged = tmpFile("frontier-merged.json");
    await runTask("keeper:merge", { out: merged, shards: [slice, one] });
    expect(fs.readFileSync(merged, "utf8")).to.equal(fs.readFileSync(frontierJson, "utf8"));
    await expectTaskError(
      "keeper:frontier",
      { ...FRONTIER, shard: "1/2", json: one, chart: tmpFile("f.svg") },
      /^--chart draws the whole frontier: leave it out of --shard runs and merge with keeper:merge$/,
    );
  });

  describe("policy:recommend --frontier", () => {
    const point = (policy: string, minHF: number, high: number, extra: Record<string, unknown> = {}) => ({
      policy,
      minHF,
      band: policy === "static" ? null : { minHF, targetHF: minHF + 0.2, maxHF: minHF + 0.5 },
      openHF: minHF + 0.2,
      liquidationProbability: { estimate: high / 3, low: 0, high, liquidated: 1, trials: 1_000 },
      equityChange: { mean: -10, p5: -20 },
      ...extra,
    });
    const file = tmpFile("hand-frontier.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        scenario: { name: "flash-crash" },
        vaults: { count: 10 },
        stress: ["gas", "oracle"],
        paths: 100,
        points: [
          point("reactive", 1.05, 0.4),
          point("static", 1.05, 0.9, { matches: "reactive" }),
          point("reactive", 1.1, 0.012),
          point("reactive", 1.2, 0.0099),
          point("static", 1.2, 0.001, { matches: "reactive" }),
          point("reactive", 1.3, 0.002),
          point("volatility", 1.07, 0.001),
        ],
      }),
    );
    const base = { horizon: 900, survival: "0.99", json: false };

    it("recommends the thinnest reactive band whose upper Wilson bound is within the target, and says so", async () => {
      const { result, output } = await runTask<FrontierRecommendation>("policy:recommend", {
        ...base,
        frontier: file,
        maxLiquidationProbability: "0.01",
      });
      expect(result.point.minHF).to.equal(1.2);
      expect(output).to.contain(`Frontier    ${file}: flash-crash, 100 paths × 10 vaults, stress: gas, oracle`);
      expect(output).to.contain("Band        minHF 1.20 · target 1.40 · maxHF 1.70");
      expect(output).to.match(
        /thinnest reactive band on the stressed frontier .* within 1% by its upper 95% Wilson bound/,
      );
      const looser = await runTask<FrontierRecommendation>("policy:recommend", {
        ...base,
        frontier: file,
        maxLiquidationProbability: "0.5",
      });
      expect(looser.result.point.minHF).to.equal(1.05);
    });

    it("says when no band qualifies, and refuses bad input in one line", async () => {
      await expectTaskError(
        "policy:recommend",
        { ...base, frontier: file, maxLiquidationProbability: "0.001" },
        /^No band on the frontier \(flash-crash, 100 paths × 10 vaults, stress: gas, oracle\) keeps .* within 0\.1%: the widest, minHF 1\.30, is at 0\.2%; run wider buffers or more paths$/,
      );
      await expectTaskError(
        "policy:recommend",
        { ...base, frontier: file },
        /^--frontier needs --max-liquidation-probability, a probability like 0\.01$/,
      );
      await expectTaskError(
        "policy:recommend",
        { ...base, frontier: file, maxLiquidationProbability: "1%" },
        /^--max-liquidation-probability must be above 0 and below 1 like 0\.01, got "1%"$/,
      );
      await expectTaskError(
        "policy:recommend",
        { ...base, maxLiquidationProbability: "0.01" },
        /^--max-liquidation-probability applies to --frontier/,
      );
      await expectTaskError(
        "policy:recommend",
        { ...base, frontier: tmpFile("none.json"), maxLiquidationProbability: "0.01" },
        /^--frontier .*none\.json: cannot read it \(no such file\)$/,
      );
      await expectTaskError(
        "policy:recommend",
        { ...base, frontier: file, vol: "0.8", maxLiquidationProbability: "0.01" },
        /^Pass either --frontier or a volatility source/,
      );
    });
  });
});
