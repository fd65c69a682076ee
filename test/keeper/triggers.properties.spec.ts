import { expect } from "chai";
import fc from "fast-check";

import { priceRatio, TriggerIndex, type PairPrices, type TriggerStatus } from "../../lib/keeper/triggers";
import { fuzzParameters, logBigInt, weighted } from "../shared/fuzz";
import { BPS, healthFactor, WAD } from "../shared/reference/rebalanceMath";

const RUNS = 100;
const COLLATERAL_UNIT = 10n ** 18n;
const DEBT_UNIT = 10n ** 6n;
/** Rounding of the base values (a floor of at least ~2e5 base units each) and of floats: far below 1 bp. */
const EPSILON = 2e-5;

/** A vault as token amounts, so that its HF at any prices is Aave's, from the base values Aave would compute. */
interface Vault {
  vault: string;
  collateral: bigint;
  debt: bigint;
  lt: bigint;
  minHF: bigint;
  maxHF: bigint;
  paused: boolean;
  ok: boolean;
}

const base = (amount: bigint, price: bigint, unit: bigint): bigint => (amount * price) / unit;

function statusAt(v: Vault, p: PairPrices): TriggerStatus {
  return {
    vault: v.vault,
    collateralAsset: "WETH",
    debtAsset: "USDC",
    policy: { minHF: v.minHF, maxHF: v.maxHF },
    position: {
      collateralBase: base(v.collateral, p.collateral, COLLATERAL_UNIT),
      debtBase: base(v.debt, p.debt, DEBT_UNIT),
      liquidationThresholdBps: v.lt,
    },
    automationPaused: v.paused,
    ok: v.ok,
  };
}

/** Aave's HF at prices `p`, and whether `RebalanceMath.band` puts it out of band (what the lens would say). */
function bandAt(v: Vault, p: PairPrices): { hf: number; out: boolean } {
  const s = statusAt(v, p).position;
  const hf = healthFactor(s.collateralBase, s.debtBase, v.lt);
  const out = v.ok && !v.paused && s.debtBase !== 0n && (hf < v.minHF || hf > v.maxHF);
  return { hf: Number(hf) / Number(WAD), out };
}

const pricesArb: fc.Arbitrary<PairPrices> = fc.record({
  collateral: logBigInt(10n ** 8n, 10n ** 13n),
  debt: fc.bigInt({ min: 5n * 10n ** 7n, max: 2n * 10n ** 8n }),
});

/** A vault opened at `hf` (hundredths) at prices `p`: its debt is sized from its collateral's value. */
function vaultArb(id: number, p: PairPrices): fc.Arbitrary<Vault> {
  return fc
    .record({
      collateral: logBigInt(COLLATERAL_UNIT, 10n ** 6n * COLLATERAL_UNIT),
      lt: fc.bigInt({ min: 5_000n, max: 9_500n }),
      hf: weighted([1, fc.constant(0n)], [9, fc.bigInt({ min: 100n, max: 400n })]),
      minHF: fc.bigInt({ min: 105n, max: 200n }),
      gap: fc.bigInt({ min: 5n, max: 100n }),
      paused: weighted([1, fc.constant(true)], [9, fc.constant(false)]),
      ok: weighted([1, fc.constant(false)], [19, fc.constant(true)]),
    })
    .map(({ collateral, lt, hf, minHF, gap, paused, ok }) => {
      const adjusted = (base(collateral, p.collateral, COLLATERAL_UNIT) * lt) / BPS;
      const debt = hf === 0n ? 0n : (adjusted * 100n * DEBT_UNIT) / (hf * p.debt);
      const cents = WAD / 100n;
      return {
        vault: `0x${id.toString(16)}`,
        collateral,
        debt,
        lt,
        minHF: minHF * cents,
        maxHF: (minHF + gap) * cents,
        paused,
        ok,
      };
    });
}

/** Prices after a move: collateral x0.5 to x2, debt x0.9 to x1.1. */
function movedArb(p: PairPrices): fc.Arbitrary<PairPrices> {
  return fc
    .record({ c: fc.bigInt({ min: 5_000n, max: 20_000n }), d: fc.bigInt({ min: 9_000n, max: 11_000n }) })
    .map(({ c, d }) => ({ collateral: (p.collateral * c) / BPS, debt: (p.debt * d) / BPS }));
}

const worldArb = pricesArb.chain((read) =>
  fc.record({
    read: fc.constant(read),
    vaults: fc
      .integer({ min: 1, max: 40 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => vaultArb(i, read)))),
    moves: fc.array(movedArb(read), { minLength: 1, maxLength: 5 }),
    marginBps: fc.integer({ min: 1, max: 100 }),
  }),
);

describe("keeper triggers: properties", function () {
  it("query(r) holds every vault out of band at r, and only vaults within the margin of their band", function () {
    fc.assert(
      fc.property(worldArb, ({ read, vaults, moves, marginBps }) => {
        const index = new TriggerIndex({ marginBps });
        index.build(
          vaults.map((v) => statusAt(v, read)),
          read,
        );
        const m = marginBps / 10_000;
        for (const moved of moves) {
          const hits = index.query(priceRatio(moved));
          const picked = new Set([...hits.deleverage, ...hits.leverage]);
          for (const v of vaults) {
            const { hf, out } = bandAt(v, moved);
            const min = Number(v.minHF) / Number(WAD);
            const max = Number(v.maxHF) / Number(WAD);
            // Never misses a vault out of band.
            if (out) expect(picked.has(v.vault), `${v.vault} at HF ${hf} missed`).to.equal(true);
            // Picks only vaults within the margin of their band (rounding aside).
            if (picked.has(v.vault)) {
              expect(v.ok && !v.paused && v.debt > 0n).to.equal(true);
              const near = hf <= min * (1 + m) * (1 + EPSILON) || hf >= max * (1 - m) * (1 - EPSILON);
              expect(near, `${v.vault} at HF ${hf} picked, band ${min} / ${max}`).to.equal(true);
            }
          }
        }
      }),
      fuzzParameters(RUNS),
    );
  });

  it("update and remove leave the index as a fresh build of the final statuses", function () {
    const opArb = (n: number, read: PairPrices): fc.Arbitrary<{ i: number; vault?: Vault }> =>
      fc
        .integer({ min: 0, max: n - 1 })
        .chain((i) => weighted([1, fc.constant({ i })], [3, vaultArb(i, read).map((vault) => ({ i, vault }))]));
    const arb = pricesArb.chain((read) =>
      fc.integer({ min: 1, max: 30 }).chain((n) =>
        fc.record({
          read: fc.constant(read),
          vaults: fc.tuple(...Array.from({ length: n }, (_, i) => vaultArb(i, read))),
          ops: fc.array(opArb(n, read), { maxLength: 60 }),
          moves: fc.array(movedArb(read), { minLength: 1, maxLength: 4 }),
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ({ read, vaults, ops, moves }) => {
        const index = new TriggerIndex();
        index.build(
          vaults.map((v) => statusAt(v, read)),
          read,
        );
        const current = new Map<string, Vault>(vaults.map((v) => [v.vault, v]));
        for (const { i, vault } of ops) {
          if (vault === undefined) {
            index.remove(`0x${i.toString(16)}`);
            current.delete(`0x${i.toString(16)}`);
          } else {
            index.update(statusAt(vault, read), read);
            current.set(vault.vault, vault);
          }
        }
        const fresh = new TriggerIndex();
        fresh.build(
          [...current.values()].map((v) => statusAt(v, read)),
          read,
        );
        expect(index.size).to.equal(fresh.size);
        expect([...index.unreadable].sort()).to.deep.equal([...fresh.unreadable].sort());
        for (const moved of moves) {
          const [a, b] = [index.query(priceRatio(moved)), fresh.query(priceRatio(moved))];
          expect(a.deleverage).to.have.members(b.deleverage);
          expect(a.leverage).to.have.members(b.leverage);
        }
      }),
      fuzzParameters(RUNS),
    );
  });
});
