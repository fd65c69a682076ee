import { expect } from "chai";
import { parseUnits } from "ethers";

import {
  healthFactorAt,
  maxSweepSeconds,
  priceRatio,
  triggerEntry,
  TriggerIndex,
  type PairPrices,
  type TriggerStatus,
} from "../../lib/keeper/triggers";
import { Random } from "../../lib/simulation/random";

const WETH = "0x00000000000000000000000000000000000000e1";
const USDC = "0x00000000000000000000000000000000000000d5";
const USD = 10n ** 8n;
/** WETH at $2,000, USDC at $1: r = 2,000. */
const PRICES: PairPrices = { collateral: 2_000n * USD, debt: USD };

/** A WETH/USDC vault with band 1.3 / 1.8, LT 80%, at HF `hf` at PRICES: $10,000 of collateral. */
function status(vault: string, hf: number, extra: Partial<TriggerStatus> = {}): TriggerStatus {
  const collateralBase = 10_000n * USD;
  // HF = C·0.8 / D.
  const debtBase = hf === Infinity ? 0n : BigInt(Math.round((10_000 * 0.8 * Number(USD)) / hf));
  return {
    vault,
    collateralAsset: WETH,
    debtAsset: USDC,
    policy: { minHF: parseUnits("1.3", 18), maxHF: parseUnits("1.8", 18) },
    position: { collateralBase, debtBase, liquidationThresholdBps: 8_000n },
    automationPaused: false,
    ok: true,
    ...extra,
  };
}

describe("keeper triggers (lib/keeper/triggers)", function () {
  describe("#triggerEntry", function () {
    it("puts the triggers where the HF reaches minHF and maxHF", function () {
      const e = triggerEntry(status("0x01", 1.5), PRICES);
      expect(e).to.not.equal(undefined);
      const { collateral, debt, liquidationThresholdBps: lt, low, high } = e!;
      expect(collateral).to.be.closeTo(5, 1e-12);
      expect(debt).to.be.closeTo((10_000 * 0.8) / 1.5, 1e-6);
      // The debt is rounded to a base unit: 1e-12 relative.
      expect(low).to.be.closeTo((2_000 * 1.3) / 1.5, 1e-6);
      expect(high).to.be.closeTo((2_000 * 1.8) / 1.5, 1e-6);
      expect(healthFactorAt(collateral, debt, lt, low)).to.be.closeTo(1.3, 1e-12);
      expect(healthFactorAt(collateral, debt, lt, high)).to.be.closeTo(1.8, 1e-12);
    });

    it("raises minHF to the factory's floor, as the vault's boundedPolicy does", function () {
      const e = triggerEntry(status("0x01", 1.5), PRICES, parseUnits("1.4", 18));
      expect(e?.low).to.be.closeTo((2_000 * 1.4) / 1.5, 1e-6);
      expect(triggerEntry(status("0x01", 1.5), PRICES, parseUnits("1.1", 18))?.low).to.be.closeTo(
        (2_000 * 1.3) / 1.5,
        1e-6,
      );
    });

    it("gives no trigger without debt, as RebalanceMath.band returns None for any HF then", function () {
      expect(triggerEntry(status("0x01", Infinity), PRICES)).to.equal(undefined);
    });

    it("gives no trigger while automation is paused", function () {
      expect(triggerEntry(status("0x01", 1.1, { automationPaused: true }), PRICES)).to.equal(undefined);
    });

    it("puts debt without collateral value below the band at every price, and never above it", function () {
      const s = status("0x01", 1.5);
      const e = triggerEntry({ ...s, position: { ...s.position, collateralBase: 0n } }, PRICES);
      expect(e?.low).to.equal(Infinity);
      expect(e?.high).to.equal(Infinity);
    });

    it("refuses a status whose position reverted, and non-positive prices", function () {
      expect(() => triggerEntry(status("0x01", 1.5, { ok: false }), PRICES)).to.throw("could not be read");
      expect(() => triggerEntry(status("0x01", 1.5), { collateral: 0n, debt: USD })).to.throw("positive");
      expect(() => priceRatio({ collateral: USD, debt: 0n })).to.throw("positive");
    });
  });

  describe("TriggerIndex", function () {
    /** HFs 1.2 (below), 1.31, 1.5, 1.79, 1.9 (above), no debt, paused at 1.0, unreadable. */
    function sample(marginBps = 0): TriggerIndex {
      const index = new TriggerIndex({ marginBps });
      index.build(
        [
          status("0xa", 1.2),
          status("0xb", 1.31),
          status("0xc", 1.5),
          status("0xd", 1.79),
          status("0xe", 1.9),
          status("0xf", Infinity),
          status("0x10", 1.0, { automationPaused: true }),
          status("0x11", 1.5, { ok: false }),
        ],
        PRICES,
      );
      return index;
    }

    it("#build indexes the automated vaults with debt, and records the unreadable ones", function () {
      const index = sample();
      expect(index.size).to.equal(5);
      expect([...index.unreadable]).to.deep.equal(["0x11"]);
      expect(index.entry("0xf")).to.equal(undefined);
      expect(index.entry("0x10")).to.equal(undefined);
    });

    it("#query returns the vaults out of band at r", function () {
      const index = sample();
      expect(index.query(2_000)).to.deep.equal({ deleverage: ["0xa"], leverage: ["0xe"] });
      // 10% down: HF x 0.9, so 1.31 and 1.2 are below 1.3 (1.5 is not); 10% up: 1.79 and 1.9 are above 1.8.
      expect(index.query(1_800)).to.deep.equal({ deleverage: ["0xb", "0xa"], leverage: [] });
      expect(index.query(2_200)).to.deep.equal({ deleverage: [], leverage: ["0xe", "0xd"] });
    });

    it("#query counts a vault at its trigger as crossed", function () {
      const index = sample();
      const low = index.entry("0xb")!.low;
      expect(index.query(low).deleverage).to.include("0xb");
      expect(index.query(low * (1 + 1e-12)).deleverage).to.not.include("0xb");
      const high = index.entry("0xd")!.high;
      expect(index.query(high).leverage).to.include("0xd");
      expect(index.query(high * (1 - 1e-12)).leverage).to.not.include("0xd");
    });

    it("#query widens each trigger by the margin", function () {
      // 0xb's HF 1.31 is 0.77% above 1.3, 0xd's 1.79 0.56% below 1.8.
      expect(sample(50).query(2_000)).to.deep.equal({ deleverage: ["0xa"], leverage: ["0xe"] });
      expect(sample(80).query(2_000)).to.deep.equal({ deleverage: ["0xb", "0xa"], leverage: ["0xe", "0xd"] });
    });

    it("#update moves a vault's triggers, and drops them when it pauses or repays", function () {
      const index = sample();
      index.update(status("0xc", 1.25), PRICES);
      expect(index.query(2_000).deleverage).to.have.members(["0xa", "0xc"]);
      index.update(status("0xc", 1.25, { automationPaused: true }), PRICES);
      expect(index.query(2_000).deleverage).to.deep.equal(["0xa"]);
      expect(index.size).to.equal(4);
      index.update(status("0xa", Infinity), PRICES);
      expect(index.query(2_000).deleverage).to.deep.equal([]);
      index.update(status("0x11", 1.0), PRICES);
      expect([...index.unreadable]).to.deep.equal([]);
      expect(index.query(2_000).deleverage).to.deep.equal(["0x11"]);
    });

    it("#remove drops a vault, and ignores one it does not hold", function () {
      const index = sample();
      index.remove("0xa");
      index.remove("0xa");
      index.remove("0x99");
      expect(index.query(2_000)).to.deep.equal({ deleverage: [], leverage: ["0xe"] });
      expect(index.size).to.equal(4);
    });

    it("#sweep re-derives every vault from fresh reads", function () {
      const index = sample();
      // The debt grew 1% since the build: HF 1.31 is now 1.297, below the band.
      const grown = status("0xb", 1.31 / 1.01);
      expect(index.query(2_000).deleverage).to.not.include("0xb");
      index.sweep([grown, status("0xc", 1.5)], PRICES);
      expect(index.size).to.equal(2);
      expect(index.query(2_000).deleverage).to.deep.equal(["0xb"]);
    });

    it("agrees with a fresh build and a brute-force filter after many updates and removes", function () {
      // Thousands of vaults, so that the sorted lists hold many chunks, split them and empty some.
      const random = new Random(7);
      const hf = (): number => (random.next() < 0.05 ? Infinity : 1.1 + random.next());
      const current = new Map<string, TriggerStatus>();
      for (let i = 0; i < 5_000; i++) current.set(`0x${i.toString(16)}`, status(`0x${i.toString(16)}`, hf()));
      const index = new TriggerIndex({ marginBps: 5 });
      index.build(current.values(), PRICES);
      for (let step = 0; step < 6_000; step++) {
        // Updates and removes concentrated on 1,500 vaults, then on one band of HFs, to fill and empty chunks.
        const vault = `0x${Math.floor(random.next() * (step < 3_000 ? 1_500 : 5_000)).toString(16)}`;
        if (random.next() < 0.4) {
          index.remove(vault);
          current.delete(vault);
        } else {
          const s = status(vault, step < 3_000 ? 1.3 + random.next() * 0.01 : hf());
          index.update(s, PRICES);
          current.set(vault, s);
        }
      }
      const fresh = new TriggerIndex({ marginBps: 5 });
      fresh.build(current.values(), PRICES);
      expect(index.size).to.equal(fresh.size);
      for (const r of [1_500, 1_800, 1_990, 2_000, 2_010, 2_200, 3_000]) {
        const hits = index.query(r);
        expect(hits).to.deep.equal(fresh.query(r));
        const brute = [...current.keys()].filter((v) => {
          const e = index.entry(v);
          return e !== undefined && r <= e.low * (1 + 5e-4);
        });
        expect([...hits.deleverage].sort()).to.deep.equal(brute.sort());
      }
      for (const vault of [...current.keys()]) index.remove(vault);
      expect(index.size).to.equal(0);
      expect(index.query(2_000)).to.deep.equal({ deleverage: [], leverage: [] });
      index.update(status("0x1", 1.2), PRICES);
      expect(index.query(2_000)).to.deep.equal({ deleverage: ["0x1"], leverage: [] });
    });

    it("keeps one pair, and refuses a bad margin or ratio", function () {
      const index = sample();
      expect(() => index.update(status("0x12", 1.5, { collateralAsset: USDC, debtAsset: WETH }), PRICES)).to.throw(
        "index",
      );
      expect(() => new TriggerIndex({ marginBps: -1 })).to.throw("marginBps");
      expect(() => index.query(0)).to.throw("ratio");
      expect(() => index.query(Number.NaN)).to.throw("ratio");
    });
  });

  describe("#maxSweepSeconds", function () {
    it("is the time a rate takes to move a position by the margin", function () {
      expect(maxSweepSeconds(10, 10_000) / 3600).to.be.closeTo(8.76, 0.01);
    });
  });
});
