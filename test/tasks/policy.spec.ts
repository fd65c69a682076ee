import { expect } from "chai";
import fs from "node:fs";
import { parseUnits } from "ethers";

import { blackThursday2020, pastVolatility, readPricePathCsv, warmupVolatility } from "../../lib/simulation";
import type { Recommendation } from "../../tasks/policy/recommend";
import { expectTaskError, runTask, tmpFile } from "./helpers";

const hf = (value: string): bigint => parseUnits(value, 18);
/** The task's defaults, as the CLI fills them in. */
const DEFAULTS = { horizon: 360, survival: "0.99", json: false };

describe("policy:recommend", () => {
  it("--vol: the band for a given volatility, with z and the reason", async () => {
    const { result, output } = await runTask<Recommendation>("policy:recommend", { ...DEFAULTS, vol: "0.8" });
    expect(result.sigmaAnnual).to.equal(0.8);
    expect(result.z).to.be.closeTo(2.326348, 1e-6);
    expect(result.policy).to.deep.equal({
      minHF: hf("1.05"),
      targetHF: hf("1.1"),
      maxHF: hf("1.15"),
      maxSlippageBps: 100n,
      maxKeeperRewardBps: 100n,
      maxGasPrice: parseUnits("2000", "gwei"),
      maxRewardBase: 5_000n * 10n ** 8n,
      urgentSlippageBps: 300n,
    });
    expect(output).to.contain("Volatility  80% a year, given with --vol");
    expect(output).to.contain("Horizon     6m 00s · survival 99% · z = 2.3263");
    expect(output).to.contain("Band        minHF 1.0500 · target 1.1000 · maxHF 1.1500 · slippage <= 100 bps");
    expect(output).to.contain(
      "Why         at 80% volatility, 1% of 6m 00s moves are worse than -0.6268%, which a vault at HF 1.0063 " +
        "survives; minHF is raised to the protocol floor 1.05; targetHF and maxHF each sit one such move or the " +
        "minimum gap 0.05 higher, whichever is larger",
    );
  });

  it("--horizon and --survival widen the band", async () => {
    const { result, output } = await runTask<Recommendation>("policy:recommend", {
      ...DEFAULTS,
      vol: "1.5",
      horizon: 86_400,
    });
    expect([result.policy.minHF, result.policy.targetHF, result.policy.maxHF]).to.deep.equal([
      hf("1.21"),
      hf("1.46"),
      hf("1.76"),
    ]);
    expect(output).to.not.contain("floor");
    const stricter = await runTask<Recommendation>("policy:recommend", {
      ...DEFAULTS,
      vol: "1.5",
      horizon: 86_400,
      survival: "0.999",
    });
    expect(stricter.result.policy.minHF > result.policy.minHF).to.equal(true);
  });

  it("--scenario --json: the forecast from the scenario's warm-up, and only JSON on stdout", async () => {
    const { result, output } = await runTask<Recommendation>("policy:recommend", {
      ...DEFAULTS,
      scenario: "black-thursday-2020",
      json: true,
    });
    expect(result.sigmaAnnual).to.equal(warmupVolatility(blackThursday2020()));
    const json = JSON.parse(output) as Record<string, unknown>;
    expect(json.source).to.equal("scenario black-thursday-2020");
    expect(json.points).to.equal(1_440);
    expect(json.spanSeconds).to.equal(1_439 * 60);
    expect(json.horizonSeconds).to.equal(360);
    expect(json.survival).to.equal(0.99);
    expect(json.sigmaAnnual).to.equal(result.sigmaAnnual);
    expect(json.policy).to.deep.equal({
      minHF: "1050000000000000000",
      targetHF: "1100000000000000000",
      maxHF: "1150000000000000000",
      maxSlippageBps: "100",
      maxKeeperRewardBps: "100",
      maxGasPrice: "2000000000000",
      maxRewardBase: "500000000000",
      urgentSlippageBps: "300",
    });
  });

  it("--scenario says what the volatility was measured on", async () => {
    const { output } = await runTask<Recommendation>("policy:recommend", { ...DEFAULTS, scenario: "oct-2025" });
    expect(output).to.contain(
      "EWMA (half-life 6h 00m 00s) over the warm-up of scenario oct-2025 (1440 points, 23h 59m 00s)",
    );
  });

  it("--prices: the forecast from a whole CSV file, all of it past data", async () => {
    const file = tmpFile("policy-prices.csv");
    // ±10% every hour: about 8.9 a year, so a band above the floor even over a 6-minute horizon.
    const rows = Array.from({ length: 25 }, (_, i) => `${1_700_000_000 + i * 3_600},${i % 2 === 0 ? 2000 : 2200}`);
    fs.writeFileSync(file, `timestamp,price\n${rows.join("\n")}\n`);
    const { result, output } = await runTask<Recommendation>("policy:recommend", { ...DEFAULTS, prices: file });
    expect(result.sigmaAnnual).to.equal(pastVolatility(readPricePathCsv(file).points, file));
    expect(result.sigmaAnnual).to.be.closeTo(Math.log(1.1) * Math.sqrt(8_760), 1e-9);
    expect(result.policy.minHF > hf("1.05")).to.equal(true);
    expect(output).to.contain(`EWMA (half-life 6h 00m 00s) over ${file} (25 points, 24h 00m 00s)`);
  });

  it("asks for exactly one volatility source", async () => {
    await expectTaskError(
      "policy:recommend",
      DEFAULTS,
      /^Pass one volatility source: --scenario <black-thursday-2020\|may-2021\|ftx-2022\|oct-2025\|flash-crash\|gbm>, --prices <file.csv> \(header timestamp,price\) or --vol <annualized, e.g. 0.8>$/,
    );
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, vol: "0.8", scenario: "gbm" },
      /^Pass only one volatility source/,
    );
  });

  it("refuses bad input, saying what to pass instead", async () => {
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, scenario: "luna" },
      /^Unknown scenario "luna": use one of black-thursday-2020, may-2021, ftx-2022, oct-2025, flash-crash, gbm$/,
    );
    const file = tmpFile("policy-bad.csv");
    fs.writeFileSync(file, "timestamp,price\n1700000060,2000\n1700000000,2001\n");
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, prices: file },
      /line 3: timestamp 1700000000 is not after the previous one \(1700000060\); timestamps must increase$/,
    );
    const fine = tmpFile("policy-fine.csv");
    fs.writeFileSync(fine, "timestamp,price\n1700000000,2000\n1700000005,2001\n");
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, prices: fine },
      /line 3: timestamp 1700000005 is 5 s after the previous row \(1700000000\); rows must be at least one block \(12 s\) apart/,
    );
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, prices: tmpFile("none.csv") },
      /cannot read it \(no such file\)/,
    );
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, vol: "80" },
      /^--vol 80 is 8000% a year: give it as a fraction, e.g. 0.8 for 80%$/,
    );
    await expectTaskError("policy:recommend", { ...DEFAULTS, vol: "-1" }, /^--vol must be an annualized volatility/);
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, vol: "0.8", survival: "99" },
      /^--survival must be a probability above 0.5 and below 1 like 0.99, got "99"$/,
    );
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, vol: "0.8", horizon: 0 },
      /^--horizon must be a whole number of seconds above 0, got 0$/,
    );
    await expectTaskError(
      "policy:recommend",
      { ...DEFAULTS, vol: "3", horizon: 604_800, survival: "0.999" },
      /above the protocol ceiling 5.00; lower the survival probability or the horizon$/,
    );
  });
});
