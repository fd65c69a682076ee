import { expect } from "chai";
import fs from "node:fs";

import type { SimulationOutcome } from "../../lib/simulation/engine";
import type { PolicyResult } from "../../lib/simulation/metrics";
import { expectTaskError, runTask, tmpFile } from "./helpers";

/**
 * A small flash-crash run: big enough for liquidations and rebalances, small enough for the suite (~15 s). In the calm
 * market (`--stress none`): under gas stress the crash's base fee is above what the owners' 1% reward cap pays, and no
 * keeper rebalances at all (test/simulation/gas.spec.ts shows that failure); the stresses have their own specs.
 */
const SMALL = { scenario: "flash-crash", vaults: 6, steps: 100, seed: 1, stress: "none" };

const simulate = (args: Record<string, unknown>) => runTask<SimulationOutcome>("keeper:simulate", args);

function policy(outcome: SimulationOutcome, name: "static" | "reactive" | "volatility"): PolicyResult {
  const p = outcome.result.policies[name];
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
        { prices: file },
        /simulate-bad\.csv line 3: price "-5" is not a decimal number/,
      );
      await expectTaskError(
        "keeper:simulate",
        { prices: tmpFile("missing.csv") },
        /missing\.csv: cannot read it \(no such file\)/,
      );
    });

    it("an unknown scenario lists the valid ones", async () => {
      await expectTaskError(
        "keeper:simulate",
        { scenario: "luna-2022" },
        /^Unknown scenario "luna-2022": use one of black-thursday-2020, may-2021, ftx-2022, flash-crash, gbm$/,
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
        [{ survival: "1.5" }, /^--survival must be a probability above 0.5 and below 1/],
        [{ scenario: "gbm", vol: "80" }, /^--vol 80 is 8000% a year: give it as a fraction/],
        [{ chart: tmpFile("hf.png") }, /^--chart .*hf\.png: expected a \.svg file$/],
        [
          { json: "/no/such/folder/out.json" },
          /^--json \/no\/such\/folder\/out\.json: the folder \/no\/such\/folder does not exist$/,
        ],
        [{ scenario: "flash-crash", steps: 20_000 }, /^--steps must be a whole number from 2 to 5000/],
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

    it("static liquidates, reactive does not: the keepers' rebalances keep its vaults above HF 1", () => {
      const s = policy(first, "static");
      const r = policy(first, "reactive");
      expect(s.liquidations).to.be.greaterThan(0);
      expect(s.liquidationPenaltyUsd).to.be.greaterThan(0);
      expect(s.worstHF).to.be.lessThan(1);
      expect(s.rebalances).to.equal(0);
      expect(s.kicks + s.gasUsed + s.keeperRewardsUsd).to.equal(0);
      expect(s.band).to.equal(null);

      expect(r.liquidations).to.equal(0);
      expect(r.liquidationPenaltyUsd).to.equal(0);
      expect(r.worstHF).to.be.greaterThan(1);
      expect(r.rebalances).to.be.greaterThan(0);
      expect(r.keeperRewardsUsd).to.be.greaterThan(0);
      expect(r.gasUsed).to.be.greaterThan(0);
      expect(r.band).to.deep.equal({ minHF: 1.3, targetHF: 1.5, maxHF: 1.8 });
      // The crash outruns the 600 s TWAP: the price guard holds the keepers back, and the response shows it.
      expect(r.guardDelays).to.be.greaterThan(0);
      expect(r.responseBlocksWorst).to.be.greaterThan(5);
      expect(r.slippageMeanBps).to.be.greaterThan(0);
      const rewards = Object.values(r.keepers).reduce((sum, k) => sum + k.rewardsUsd, 0);
      expect(rewards).to.be.closeTo(r.keeperRewardsUsd, 0.05);
    });

    it("derives the volatility band from the path and reports it", () => {
      const band = first.result.volatilityBand;
      expect(band).to.not.equal(null);
      expect(band?.horizonSeconds).to.equal(Math.max(...first.result.keepers.map((k) => k.latencySeconds)) + 600);
      expect(policy(first, "volatility").band).to.deep.equal({
        minHF: band?.minHF,
        targetHF: band?.targetHF,
        maxHF: band?.maxHF,
      });
      expect(output).to.match(/Volatility {2}σ .* a year \(realized over the path\) · horizon/);
    });

    it("prints the table, the keepers and where the time went, and writes the JSON and the chart", () => {
      for (const row of ["vaults liquidated", "liquidation penalty", "rebalances", "keeper rewards", "worst HF"]) {
        expect(output).to.contain(row);
      }
      expect(output).to.match(/keeper-1 \(\d+ s, [\d.]+ gwei, ≥ \$[\d.]+\)/);
      expect(output).to.match(/^Time {8}/m);
      const json = JSON.parse(firstJson) as { scenario: { name: string }; policies: Record<string, unknown> };
      expect(json.scenario.name).to.equal("flash-crash");
      expect(Object.keys(json.policies)).to.deep.equal(["static", "reactive", "volatility"]);
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
    expect(result.result.scenario).to.include({ name: "simulate-dip", source: file, steps: 8, startPrice: 2_000 });
    expect(result.result.scenario.lowPrice).to.be.closeTo(1_400, 0.01);
    expect(Object.keys(result.result.policies)).to.deep.equal(["static", "reactive"]);
    expect(result.result.volatilityBand).to.equal(null);
    expect(policy(result, "reactive").rebalances).to.be.greaterThan(0);
  });
});
