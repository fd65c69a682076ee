import { expect } from "chai";
import { parseUnits, toBeHex, zeroPadValue } from "ethers";
import hre from "hardhat";

import { pricedOut } from "../../lib/keeper/decide";
import { installBlockClock } from "../../lib/simulation/clock";
import { runSimulation, type SimulationOptions } from "../../lib/simulation/engine";
import { baseFeeGwei, baseFeeWei, CAP_GWEI, modelGwei } from "../../lib/simulation/gas";
import type { PolicyResult } from "../../lib/simulation/metrics";
import { blackThursday2020, flashCrash, type PricePath } from "../../lib/simulation/scenarios";
import { NO_STRESS, type StressKind } from "../../lib/simulation/stress";

const gwei = (g: string): bigint => parseUnits(g, 9);
const HOUR = 3_600;

/** Mean of the path's modelled base fee over [fromHour, toHour) of the path. */
function hourlyMean(path: PricePath, fees: readonly number[], fromHour: number, toHour: number): number {
  const t0 = path.points[0].timestamp;
  const xs = fees.filter((_, i) => {
    const h = (path.points[i].timestamp - t0) / HOUR;
    return h >= fromHour && h < toHour;
  });
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * A contract that stores `block.basefee` in slot 0 when called: runtime `BASEFEE PUSH1 0 SSTORE STOP`, behind an init
 * code that returns it (no Solidity: raw bytecode).
 */
const BASEFEE_RECORDER = "0x6005600c60003960056000f3" + "4860005500";

describe("simulation: gas stress", () => {
  describe("the base-fee path", () => {
    it("Black Thursday: 10-20 gwei before the crash, 150-300 gwei in its worst hours, less in the slow fall after", () => {
      const path = blackThursday2020({ steps: 500 });
      const fees = baseFeeGwei(path);
      const before = hourlyMean(path, fees, 0, 8);
      expect(before).to.be.within(10, 20);
      const crashHours = [12, 13, 14, 15].map((h) => hourlyMean(path, fees, h, h + 1));
      expect(Math.max(...crashHours)).to.be.within(150, 300);
      expect(hourlyMean(path, fees, 12, 16)).to.be.within(150, 250);
      expect(hourlyMean(path, fees, 34, 48)).to.be.lessThan(30);
    });

    it("a flash crash (-30% in minutes) drives it to the cap; calm volatility stays at the floor", () => {
      expect(Math.max(...baseFeeGwei(flashCrash({ steps: 300 })))).to.equal(CAP_GWEI);
      expect(modelGwei(0)).to.equal(10);
      expect(modelGwei(0.8)).to.equal(15);
      expect(modelGwei(3.2)).to.equal(120);
    });

    it("takes the price path's own gasGwei where given (a CSV column), in wei for the chain", () => {
      const path = blackThursday2020({ steps: 10 });
      path.points[3].gasGwei = 187.25;
      path.points[4].gasGwei = 3;
      const fees = baseFeeGwei(path);
      expect(fees[3]).to.equal(187.3);
      expect(fees[4]).to.equal(3);
      expect(baseFeeWei(path)[3]).to.equal(gwei("187.3"));
    });
  });

  describe("on chain: the clock sets each block's base fee", () => {
    it("block.basefee is the path's; a keeper's transaction below it is not included, one above it is", async () => {
      const [, , , , , , , , sender] = await hre.ethers.getSigners();
      const provider = hre.ethers.provider;
      const clock = installBlockClock(hre.network.provider);
      try {
        clock.setBaseFee(gwei("123.4"));
        expect(clock.baseFee()).to.equal(gwei("123.4"));
        const deployed = await (await sender.sendTransaction({ data: BASEFEE_RECORDER })).wait();
        const recorder = deployed?.contractAddress;
        if (recorder === undefined || recorder === null) throw new Error("not deployed");

        const fees = { baseFee: gwei("123.4"), tip: gwei("2"), maxFee: gwei("300") };
        const sent = await sender.sendTransaction({
          to: recorder,
          maxFeePerGas: fees.maxFee,
          maxPriorityFeePerGas: fees.tip,
        });
        const receipt = await sent.wait();
        if (receipt === null) throw new Error("no receipt");
        expect((await provider.getBlock(receipt.blockNumber))?.baseFeePerGas).to.equal(gwei("123.4"));
        // What the EVM's BASEFEE read in that block.
        expect(await provider.getStorage(recorder, 0)).to.equal(zeroPadValue(toBeHex(gwei("123.4")), 32));
        // Paid: base fee plus tip.
        expect(receipt.gasPrice).to.equal(gwei("125.4"));

        // A max fee below the base fee: the keeper's rule does not send it, and the node would not include it.
        const low = { baseFee: gwei("123.4"), tip: gwei("2"), maxFee: gwei("100") };
        expect(pricedOut(low)).to.equal(true);
        expect(pricedOut(fees)).to.equal(false);
        const nonce = await sender.getNonce();
        const height = await provider.getBlockNumber();
        let refused = "";
        try {
          await sender.sendTransaction({ to: recorder, maxFeePerGas: low.maxFee, maxPriorityFeePerGas: low.tip });
        } catch (e) {
          refused = e instanceof Error ? e.message : String(e);
        }
        expect(refused).to.match(/too low for the next block/);
        expect(await sender.getNonce()).to.equal(nonce);
        expect(await provider.getBlockNumber()).to.equal(height);

        // Blocks the simulation mines itself get it too.
        clock.setBaseFee(gwei("250"));
        await hre.network.provider.request({ method: "evm_mine", params: [] });
        expect((await provider.getBlock("latest"))?.baseFeePerGas).to.equal(gwei("250"));
      } finally {
        clock.setBaseFee(undefined);
        clock.restore();
      }
    });
  });

  describe("a run with gas stress", function () {
    this.timeout(600_000);
    const path = blackThursday2020({ steps: 80 });
    const options = (stress: readonly StressKind[]): SimulationOptions => ({
      path,
      source: "scenario",
      policies: ["reactive"],
      vaults: 6,
      keepers: 3,
      seed: 1,
      survival: 0.99,
      stress: stress.length === 0 ? NO_STRESS : new Set(stress),
    });
    let gas: PolicyResult;
    let calm: PolicyResult;

    before(async () => {
      const a = await runSimulation(hre, options(["gas"]));
      const b = await runSimulation(hre, options([]));
      const reactive = (r: typeof a): PolicyResult => {
        const p = r.result?.policies.reactive;
        if (p === undefined) throw new Error("no reactive result");
        return p;
      };
      gas = reactive(a);
      calm = reactive(b);
    });

    it("keepers pay the path's base fee: its mean and peak are reported, and gas costs more per unit", () => {
      const fees = baseFeeGwei(path);
      expect(gas.baseFeeGweiMax).to.equal(Math.max(...fees));
      expect(gas.baseFeeGweiMean).to.be.closeTo(fees.reduce((x, y) => x + y, 0) / fees.length, 0.01);
      expect(gas.gasUsed).to.be.greaterThan(0);
      // USD per million gas: at tens of gwei under stress, a few gwei without.
      const perGas = (p: PolicyResult) => p.keeperGasCostUsd / p.gasUsed;
      expect(perGas(gas)).to.be.greaterThan(2 * perGas(calm));
    });

    it("keepers whose max fee is below the base fee are priced out, and counted", () => {
      expect(gas.pricedOut).to.be.greaterThan(0);
      const byKeeper = Object.values(gas.keepers).reduce((a, k) => a + k.pricedOut, 0);
      expect(byKeeper).to.equal(gas.pricedOut);
    });

    it("a lost race costs the loser gas: its transaction is mined, reverts, and its ~27,000 gas is counted", () => {
      expect(gas.lostRaces).to.be.greaterThan(0);
      expect(gas.lostRaceGasUsed).to.be.within(20_000 * gas.lostRaces, 40_000 * gas.lostRaces);
      expect(gas.lostRaceGasCostUsd).to.be.greaterThan(0);
      const losers = Object.values(gas.keepers).filter((k) => k.lostRaces > 0);
      expect(losers.length).to.be.greaterThan(0);
      for (const k of losers) expect(k.gasUsed).to.be.at.least(k.lostRaceGasUsed);
    });

    it("when the owner's cap does not cover the gas, vaults wait: the run shows it", () => {
      expect(gas.unprofitable).to.be.greaterThan(0);
      expect(gas.responseBlocksWorst ?? 0).to.be.greaterThan(calm.responseBlocksWorst ?? 0);
    });

    it("without gas stress: constant gas prices as before, nothing priced out, no races sent", () => {
      expect(calm.baseFeeGweiMax).to.equal(null);
      expect(calm.pricedOut).to.equal(0);
      expect(calm.lostRaces).to.equal(0);
      expect(calm.rebalances).to.be.greaterThan(0);
    });
  });
});
