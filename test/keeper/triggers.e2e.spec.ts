/**
 * The trigger-price index against the lens, on the local Aave V3 and Uniswap V3 market: vaults opened at HFs across
 * the band, the index built from one lens scan, then the WETH oracle price moved 10% down (and, separately, up). The
 * vaults the index picks must be exactly those a full lens scan says need a rebalance, each the same way.
 *
 * `KEEPER_INDEX_VAULTS` sets how many vaults are opened (three transactions each): 100 by default, so that the spec
 * stays a few minutes long; the README records a run with 1,000.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits, toBeHex, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import { priceRatio, scanAll, TriggerIndex, type PairPrices } from "../../lib/keeper/triggers";
import { DEFAULT_POLICY, singleHopPath } from "../../lib/protocol";
import { BallastVault__factory, VaultLens__factory, type IVaultLens, type VaultLens } from "../../typechain-types";
import { skipUnderCoverage } from "../shared/coverage";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";
import { movePrice } from "../shared/vault";
import { setupKeeper } from "../../tasks/keeper/run";

/** The signer that runs the bot (not the vaults' owner, 2). */
const KEEPER = 6;

const VAULTS = Number(process.env.KEEPER_INDEX_VAULTS ?? 100);
const DEPOSIT = parseUnits("0.1", 18);
/** Fixed gas limits skip one `eth_estimateGas` per transaction. */
const GAS = { create: 500_000n, approve: 100_000n, open: 1_500_000n, deposit: 500_000n, pause: 100_000n };
/** DEFAULT_POLICY's band. */
const MIN_HF = 1.3;
const MAX_HF = 1.8;
/**
 * Opening HFs are kept this far (relative) from the HFs that a 10% move takes to a band edge (1.3 / 0.9 and 1.8 / 1.1):
 * `open` lands a little off its target, and interest accrues while the spec runs.
 */
const CLEARANCE = 0.002;

const LENS_DIRECTION = { deleverage: 1n, leverage: 2n };

interface IndexFixture extends ProtocolFixture {
  lens: VaultLens;
  vaults: string[];
}

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const r = await (await tx).wait();
  if (r === null || r.status !== 1) throw new Error("transaction failed");
}

/** Opening HFs spread over the band, avoiding the 10% moves' edges. */
function openingHFs(n: number): bigint[] {
  const edges = [MIN_HF / 0.9, MAX_HF / 1.1];
  const out: bigint[] = [];
  for (let i = 0; out.length < n; i++) {
    // A low-discrepancy walk over [1.31, 1.79].
    const hf = 1.31 + 0.48 * ((i * 0.618033988749895) % 1);
    if (edges.some((e) => Math.abs(hf / e - 1) < CLEARANCE)) continue;
    out.push(parseUnits(hf.toFixed(4), 18));
  }
  return out;
}

/**
 * `VAULTS` WETH/USDC vaults opened at `openingHFs`, one owner with a salt each (as bench/scan.ts opens them), plus
 * three that must never be picked: one with collateral and no debt, and two opened then paused (one near each edge).
 */
async function indexFixture(): Promise<IndexFixture> {
  const f = await protocolFixture();
  const [governance, , owner] = await hre.ethers.getSigners();
  const lens = await new VaultLens__factory(governance).deploy();
  const weth = f.tokens.erc20.WETH;
  const usdc = f.tokens.erc20.USDC;
  const up = await singleHopPath(f, "USDC", "WETH", 500);
  const targets = openingHFs(VAULTS);
  const extra = 3;
  await f.world.fund("WETH", owner.address, DEPOSIT * BigInt(VAULTS + extra));
  const vaults: string[] = [];
  for (let i = 0; i < VAULTS + extra; i++) {
    const salt = toBeHex(i + 1, 32);
    await mined(f.factory.connect(owner).createVault(weth, usdc, DEFAULT_POLICY, salt, { gasLimit: GAS.create }));
    const vault = BallastVault__factory.connect(await f.factory.predictVault(owner.address, salt), owner);
    await mined(weth.connect(owner).approve(vault, DEPOSIT, { gasLimit: GAS.approve }));
    if (i === VAULTS) {
      await mined(vault.deposit(DEPOSIT, { gasLimit: GAS.deposit }));
    } else {
      const target = i < VAULTS ? targets[i] : parseUnits(i === VAULTS + 1 ? "1.32" : "1.78", 18);
      await mined(vault.open(DEPOSIT, target, up, { gasLimit: GAS.open }));
      if (i > VAULTS) await mined(vault.pauseAutomation(true, { gasLimit: GAS.pause }));
    }
    vaults.push(await vault.getAddress());
  }
  await f.world.refreshOracles();
  return { ...f, lens, vaults };
}

async function prices(f: IndexFixture): Promise<PairPrices> {
  const [collateral, debt] = await Promise.all([
    f.aave.oracle.getAssetPrice(f.tokens.erc20.WETH),
    f.aave.oracle.getAssetPrice(f.tokens.erc20.USDC),
  ]);
  return { collateral, debt };
}

async function scan(f: IndexFixture): Promise<IVaultLens.VaultStatusStructOutput[]> {
  const statuses = (await scanAll(
    f.lens,
    await f.factory.getAddress(),
    await f.factory.vaultCount(),
  )) as IVaultLens.VaultStatusStructOutput[];
  expect(statuses.every((s) => s.ok)).to.equal(true);
  return statuses;
}

/** The vaults a full lens scan says need a rebalance, each way. */
function lensPicks(statuses: readonly IVaultLens.VaultStatusStructOutput[]): {
  deleverage: string[];
  leverage: string[];
} {
  const way = (d: bigint): string[] =>
    statuses
      .filter((s) => s.needed && s.direction === d)
      .map((s) => s.vault)
      .sort();
  return { deleverage: way(LENS_DIRECTION.deleverage), leverage: way(LENS_DIRECTION.leverage) };
}

describe(`keeper triggers: the index against a lens scan (${VAULTS} vaults)`, function () {
  this.timeout(3_600_000);

  // Its fixed gas limits are for uninstrumented bytecode, and it tests TypeScript, not contract coverage.
  before(function () {
    skipUnderCoverage(this);
  });

  for (const [name, factor] of [
    ["10% down", 9_000n],
    ["10% up", 11_000n],
  ] as const) {
    it(`picks what the lens picks after a ${name} move of WETH`, async function () {
      const f = await loadFixture(indexFixture);
      const before = await scan(f);
      expect(lensPicks(before)).to.deep.equal({ deleverage: [], leverage: [] });
      const index = new TriggerIndex();
      index.build(before, await prices(f));
      // The three vaults without a trigger: no debt, and paused twice.
      expect(index.size).to.equal(VAULTS);

      const weth = await f.world.oraclePrice("WETH");
      await movePrice(f, "WETH", (weth * factor) / 10_000n);
      const after = await scan(f);
      const hits = index.query(priceRatio(await prices(f)));
      const picked = { deleverage: [...hits.deleverage].sort(), leverage: [...hits.leverage].sort() };
      const expected = lensPicks(after);
      expect(picked).to.deep.equal(expected);
      // The move does cross some vaults' triggers, and leaves others in band.
      const crossed = expected.deleverage.length + expected.leverage.length;
      expect(crossed).to.be.greaterThan(0);
      expect(crossed).to.be.lessThan(VAULTS);
      console.log(`      ${name}: ${crossed} of ${VAULTS + 3} vaults out of band, the index picks the same`);
    });
  }

  it("keeper:run's indexed pass after a 10% fall reads only the crossed vaults and finds out of band what the lens does", async function () {
    const f = await loadFixture(indexFixture);
    const lines: string[] = [];
    const { bot } = await setupKeeper(
      hre,
      {
        account: KEEPER,
        factory: await f.factory.getAddress(),
        lens: await f.lens.getAddress(),
        quoter: await f.uniswap.quoter.getAddress(),
        once: true,
        // No rolling re-reads (a sweep interval of months): what the pass reads is what the index picked.
        sweepInterval: 1e7,
      },
      { sink: (line) => lines.push(line) },
    );
    const first = await bot.pass();
    expect([first.sweep, first.read, first.outOfBand]).to.deep.equal([true, VAULTS + 3, 0]);
    const weth = await f.world.oraclePrice("WETH");
    await movePrice(f, "WETH", (weth * 9_000n) / 10_000n);
    const expected = lensPicks(await scan(f));
    const pass = await bot.pass();
    expect(pass.sweep).to.equal(false);
    // The vaults hold 0.1 WETH, under the auction's $1,000 of debt: each one out of band is skipped as dust.
    const outOfBand = pass.skipped.filter((s) => s.reason === "dust").map((s) => s.vault);
    expect(pass.outOfBand).to.equal(outOfBand.length);
    expect(outOfBand.sort()).to.deep.equal([...expected.deleverage, ...expected.leverage].sort());
    expect(outOfBand.length).to.be.greaterThan(0);
    // What it read beyond them: vaults within the margin of their trigger.
    expect(pass.read).to.be.at.least(outOfBand.length);
    expect(pass.read).to.be.lessThan(VAULTS);
    console.log(`      the indexed pass read ${pass.read} of ${VAULTS + 3} vaults; ${outOfBand.length} out of band`);
  });

  it("sweep re-derives the index from the chain after the move", async function () {
    const f = await loadFixture(indexFixture);
    const index = new TriggerIndex();
    index.build(await scan(f), await prices(f));
    const weth = await f.world.oraclePrice("WETH");
    await movePrice(f, "WETH", (weth * 9_000n) / 10_000n);
    const after = await scan(f);
    const p = await prices(f);
    index.sweep(after, p);
    const hits = index.query(priceRatio(p));
    expect({ deleverage: [...hits.deleverage].sort(), leverage: [...hits.leverage].sort() }).to.deep.equal(
      lensPicks(after),
    );
    expect(index.size).to.equal(VAULTS);
  });
});
