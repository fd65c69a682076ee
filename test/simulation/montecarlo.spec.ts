import { expect } from "chai";
import { parseUnits } from "ethers";

import {
  compare,
  holdResult,
  openingHF,
  reactiveBandAt,
  staticSetupAt,
  versus,
  type ComparedResult,
} from "../../lib/simulation/baselines";
import { standardRuns } from "../../lib/simulation/engine";
import { concatEventFiles, EventLog, EVENTS_HEADER } from "../../lib/simulation/events";
import { frontierRuns, parseMinHFs, thinnestBand, type FrontierPoint } from "../../lib/simulation/frontier";
import type { PolicyResult } from "../../lib/simulation/metrics";
import {
  finalize,
  pathAt,
  SHARD_FORMAT,
  shardPaths,
  type PathRun,
  type ShardResult,
} from "../../lib/simulation/montecarlo";
import { REACTIVE_POLICY, volatilityBand } from "../../lib/simulation/policies";
import { buildPopulation } from "../../lib/simulation/population";
import { buildKeepers } from "../../lib/simulation/keepers";
import { flashCrash } from "../../lib/simulation";
import { pathVariant } from "../../lib/simulation/variants";

const wad = (hf: string): bigint => parseUnits(hf, 18);

/** A PolicyResult with only what the summaries read set. */
function result(liquidations: number, equityEndUsd: number, worstHF: number): PolicyResult {
  return {
    band: null,
    liquidations,
    liquidationCalls: liquidations,
    liquidationPenaltyUsd: 0,
    equityStartUsd: 1000,
    equityEndUsd,
    equityChangePct: equityEndUsd / 10 - 100,
    rebalances: 0,
    rebalanceCostUsd: 0,
    keeperRewardsUsd: 0,
    gasUsed: 0,
    keeperGasCostUsd: 0,
    slippageMeanBps: null,
    slippageWorstBps: null,
    worstHF,
    responseBlocksMean: null,
    responseBlocksWorst: null,
    kicks: 0,
    cancels: 0,
    failures: {},
    guardDelays: 0,
    outOfBandAtEnd: 0,
    keepers: {},
    pricedOut: 0,
    lostRaces: 0,
    lostRaceGasUsed: 0,
    lostRaceGasCostUsd: 0,
    unprofitable: 0,
    baseFeeGweiMean: null,
    baseFeeGweiMax: null,
    correlatedOutage: null,
    market: null,
  };
}

const HOLD = { equityStartUsd: 1000, equityEndUsd: 800, equityChangePct: -20 };

function pathRun(path: number, staticLiq: number, reactiveLiq: number): PathRun {
  const s = compare(result(staticLiq, 600 + path, 0.9), wad("1.5"), undefined, HOLD);
  const r = compare(result(reactiveLiq, 700 + path, 1.1), wad("1.5"), result(staticLiq, 600 + path, 0.9), HOLD);
  return {
    path,
    scenario: {
      name: "x",
      steps: 2,
      spanSeconds: 60,
      startPrice: 2000,
      endPrice: 1600,
      lowPrice: 1600,
      highPrice: 2000,
      realizedVolatility: 1,
    },
    volatilityBand: null,
    hold: HOLD,
    policies: { static: s, reactive: r },
    baselines: {},
  };
}

function shard(index: number, count: number, paths: number, runs: PathRun[]): ShardResult {
  return {
    format: SHARD_FORMAT,
    shard: { index, count },
    paths,
    header: {
      scenario: { ...runs[0].scenario, source: "scenario", seed: 1 },
      vaults: { count: 10, depositWeth: { min: 1, max: 1, total: 10 } },
      keepers: [],
      volatilityBand: null,
      stress: ["gas", "downtime"],
      outage: "correlated",
    },
    runs,
  };
}

describe("simulation: Monte Carlo, baselines, frontier, events", () => {
  describe("shardPaths", () => {
    it("cuts the paths into contiguous slices that cover each once", () => {
      expect(shardPaths(1)).to.deep.equal([0]);
      expect(shardPaths(5, { index: 1, count: 2 })).to.deep.equal([0, 1]);
      expect(shardPaths(5, { index: 2, count: 2 })).to.deep.equal([2, 3, 4]);
      const all = [1, 2, 3].flatMap((index) => shardPaths(32, { index, count: 3 }));
      expect(all).to.deep.equal(Array.from({ length: 32 }, (_, i) => i));
      expect(() => shardPaths(2, { index: 1, count: 3 })).to.throw(/3 shards for 2 paths/);
      expect(() => shardPaths(2, { index: 0, count: 1 })).to.throw(/1 <= i <= n/);
    });
  });

  describe("pathAt", () => {
    it("path 0 is the scenario; the others are its seeded variants, with the same times", () => {
      const base = flashCrash({ steps: 120 });
      expect(pathAt(base, 1, 0)).to.equal(base);
      const v = pathAt(base, 1, 3);
      expect(v).to.deep.equal(pathVariant(base, 1, 3));
      expect(v.points.map((p) => p.timestamp)).to.deep.equal(base.points.map((p) => p.timestamp));
      const prices = (p: typeof base) => p.points.map((q) => q.price);
      expect(prices(v)).to.not.deep.equal(prices(base));
      expect(prices(pathAt(base, 1, 4))).to.not.deep.equal(prices(v));
      expect(prices(pathAt(base, 2, 3))).to.not.deep.equal(prices(v));
    });
  });

  describe("finalize", () => {
    const runs = [pathRun(0, 3, 0), pathRun(1, 5, 1), pathRun(2, 10, 0)];

    it("summarizes every path: Wilson liquidation probability, equity mean/p5, worst-HF quantiles", () => {
      const r = finalize([shard(1, 1, 3, runs)]);
      expect(r.policies).to.deep.equal(runs[0].policies);
      expect(r.stress).to.deep.equal(["gas", "downtime"]);
      expect(r.outage).to.equal("correlated");
      const mc = r.montecarlo;
      expect(mc.paths).to.equal(3);
      expect(mc.policies.static?.liquidationProbability).to.deep.include({ liquidated: 18, trials: 30, estimate: 0.6 });
      expect(mc.policies.reactive?.liquidationProbability).to.deep.include({ liquidated: 1, trials: 30 });
      expect(mc.policies.reactive?.equityVsStaticPct?.mean).to.be.greaterThan(0);
      expect(mc.policies.static?.equityVsStaticPct).to.equal(null);
      expect(mc.policies.reactive?.worstHF.p50).to.equal(1.1);
      expect(mc.runs?.map((x) => x.path)).to.deep.equal([0, 1, 2]);
    });

    it("gives the same bytes whatever the shards and their order; refuses gaps, repeats and mixed runs", () => {
      const one = JSON.stringify(finalize([shard(1, 1, 3, runs)]));
      const two = JSON.stringify(finalize([shard(2, 2, 3, runs.slice(1)), shard(1, 2, 3, runs.slice(0, 1))]));
      expect(two).to.equal(one);
      expect(() => finalize([shard(1, 2, 3, runs.slice(0, 1))])).to.throw(/Path 1 of 3 is missing/);
      expect(() => finalize([shard(1, 2, 3, runs), shard(2, 2, 3, runs.slice(2))])).to.throw(/more than one shard/);
      const other = shard(2, 2, 3, runs.slice(1));
      other.header.stress = [];
      expect(() => finalize([shard(1, 2, 3, runs.slice(0, 1)), other])).to.throw(/from another run/);
      const independent = shard(2, 2, 3, runs.slice(1));
      independent.header.outage = "independent";
      expect(() => finalize([shard(1, 2, 3, runs.slice(0, 1)), independent])).to.throw(/from another run/);
    });
  });

  describe("baselines", () => {
    it("static runs open at reactive's target; every other policy gets static at its own target", () => {
      const path = flashCrash({ steps: 100 });
      const band = volatilityBand(path, buildKeepers(3, 1), 0.99);
      const [spec] = buildPopulation(1, 1);
      const runs = standardRuns(["static", "reactive", "volatility"], band);
      expect(runs.map((r) => [r.group, r.key, r.name])).to.deep.equal([
        ["policies", "static", "static"],
        ["policies", "reactive", "reactive"],
        ["policies", "volatility", "volatility"],
        ["baselines", "volatility", "static"],
      ]);
      expect(runs[0].setup.openHF(spec)).to.equal(REACTIVE_POLICY.targetHF);
      expect(runs[0].setup.paused).to.equal(true);
      expect(runs[3].setup.openHF(spec)).to.equal(band.policy.targetHF);
      expect(runs[3].setup.paused).to.equal(true);
      expect(openingHF("volatility", band)).to.equal(band.policy.targetHF);
      // Without static asked for, reactive gets its own baseline.
      expect(standardRuns(["reactive"], undefined).map((r) => `${r.group}.${r.key}`)).to.deep.equal([
        "policies.reactive",
        "baselines.reactive",
      ]);
      expect(staticSetupAt(wad("1.2")).openHF(spec)).to.equal(wad("1.2"));
    });

    it("holding: the deposits at the first and last price; comparisons in percent", () => {
      const pop = buildPopulation(3, 1);
      const path = {
        name: "x",
        points: [
          { timestamp: 0, price: 2000 },
          { timestamp: 60, price: 1500 },
        ],
      };
      const total = Number(pop.reduce((a, s) => a + s.deposit, 0n) / 10n ** 16n) / 100;
      const hold = holdResult(pop, path);
      expect(hold.equityStartUsd).to.be.closeTo(total * 2000, 0.01);
      expect(hold.equityEndUsd).to.be.closeTo(total * 1500, 0.01);
      expect(hold.equityChangePct).to.equal(-25);
      expect(versus(110, 100)).to.equal(10);
      expect(versus(1, 0)).to.equal(null);
      const c: ComparedResult = compare(result(0, 900, 1.2), wad("1.44"), result(2, 600, 0.9), HOLD);
      expect([c.openHF, c.equityVsStaticPct, c.equityVsHoldPct]).to.deep.equal([1.44, 50, 12.5]);
    });

    it("reactive bands at a buffer: DEFAULT_POLICY's offsets, within the bounds", () => {
      const band = (m: string) => {
        const p = reactiveBandAt(wad(m));
        return [p.minHF, p.targetHF, p.maxHF].map((x) => Number(x / 10n ** 16n) / 100);
      };
      expect(band("1.3")).to.deep.equal([1.3, 1.5, 1.8]);
      expect(band("1.05")).to.deep.equal([1.05, 1.25, 1.55]);
      expect(band("4.7")).to.deep.equal([4.7, 4.9, 5]);
      expect(() => reactiveBandAt(wad("4.8"))).to.throw(/does not fit under the protocol ceiling 5/);
      expect(() => reactiveBandAt(wad("1.0"))).to.throw(/below the protocol floor 1.05/);
    });
  });

  describe("frontier", () => {
    it("parses buffers and plans reactive and its matched static at each, volatility once", () => {
      expect(parseMinHFs("1.3, 1.05,1.1")).to.deep.equal([wad("1.05"), wad("1.1"), wad("1.3")]);
      expect(() => parseMinHFs("1.1,abc")).to.throw(/"abc" is not an HF/);
      expect(() => parseMinHFs("1.1,1.10")).to.throw(/names 1.10 twice/);
      expect(() => parseMinHFs(" ")).to.throw(/--min-hf is empty/);
      const runs = frontierRuns([wad("1.1"), wad("1.2")], undefined);
      expect(runs.map((r) => r.label)).to.deep.equal([
        "reactive@1.10",
        "static≙reactive@1.10",
        "reactive@1.20",
        "static≙reactive@1.20",
      ]);
      const [spec] = buildPopulation(1, 1);
      expect(runs[1].setup.openHF(spec)).to.equal(wad("1.3"));
    });

    it("thinnestBand: the smallest reactive minHF whose upper Wilson bound is within the target", () => {
      const point = (policy: "static" | "reactive", minHF: number, high: number) =>
        ({
          policy,
          minHF,
          liquidationProbability: { estimate: 0, low: 0, high, liquidated: 0, trials: 100 },
        }) as FrontierPoint;
      const points = [
        point("reactive", 1.5, 0.001),
        point("reactive", 1.1, 0.2),
        point("static", 1.2, 0.001),
        point("reactive", 1.3, 0.009),
        point("reactive", 1.2, 0.011),
      ];
      expect(thinnestBand({ points }, 0.01)?.minHF).to.equal(1.3);
      expect(thinnestBand({ points }, 0.5)?.minHF).to.equal(1.1);
      expect(thinnestBand({ points }, 0.0001)).to.equal(undefined);
    });
  });

  describe("events", () => {
    it("one CSV row per event under one header; workers' files concatenate in order", () => {
      const log = new EventLog();
      const run = log.run(2, "reactive");
      run.step(1_000, 1_700_000_000, 200_000_000_000n);
      run.step(1_060, 1_700_000_060, 190_000_000_000n);
      expect(run.locate(1_070)).to.deep.equal({ time: 1_700_000_070, price: 190_000_000_000n });
      run.record({ time: 1, vault: 3, price: 1900, hf: 1.2345678, action: "kick", keeper: "keeper-1", costUsd: 4.891 });
      run.record({ time: 2, vault: 3, price: 1900, hf: null, action: "cancel", keeper: "keeper-1", costUsd: 0 });
      expect(log.csv()).to.equal(
        `${EVENTS_HEADER}\n1,2,reactive,3,1900.00,1.2346,kick,keeper-1,4.89\n2,2,reactive,3,1900.00,,cancel,keeper-1,0.00\n`,
      );
      expect(concatEventFiles([log.csv(), `${EVENTS_HEADER}\n`, log.csv()]).split("\n")).to.have.length(6);
    });
  });
});
