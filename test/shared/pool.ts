import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { MaxUint256, parseUnits, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  ERC4626Probe__factory,
  type BallastPool,
  type BallastVault,
  type ERC4626Probe,
} from "../../typechain-types";
import { mined } from "../../lib/market/aave";
import { deployPool, singleHopPath } from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "./fixtures";

export const FUNDS = parseUnits("100", 18);
/** One whole WETH's worth of shares at the first deposit: the pool's decimals offset is 6. */
export const SHARE_UNIT = 10n ** 24n;

export interface PoolFixture extends ProtocolFixture {
  pool: BallastPool;
  /** Runs a preview and its action in one transaction, where ERC-4626 promises they agree. */
  probe: ERC4626Probe;
  /** The pool's position, connected as the keeper. */
  vault: BallastVault;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  attacker: HardhatEthersSigner;
  /** USDC -> WETH (0.05%): a keeper's leverage. */
  up: string;
  /** WETH -> USDC (0.05%): a keeper's deleverage. */
  down: string;
}

/** A WETH/USDC pool on DEFAULT_POLICY with no cap; alice and bob each hold 100 WETH and approved the pool. */
export async function poolFixture(): Promise<PoolFixture> {
  const f = await protocolFixture();
  const signers = await hre.ethers.getSigners();
  const [governance, guardian, alice, keeper, attacker, bob] = signers;
  const pool = await deployPool(f, f, governance, guardian.address);
  const vault = BallastVault__factory.connect(await pool.VAULT(), keeper);
  for (const holder of [alice, bob, attacker]) {
    await f.world.fund("WETH", holder.address, FUNDS);
    await mined(f.tokens.erc20.WETH.connect(holder).approve(pool, MaxUint256));
  }
  const probe = await new ERC4626Probe__factory(governance).deploy();
  for (const holder of [alice, bob, attacker]) {
    await mined(f.tokens.erc20.WETH.connect(holder).approve(probe, MaxUint256));
    await mined(pool.connect(holder).approve(probe, MaxUint256));
  }
  const up = await singleHopPath(f, "USDC", "WETH", 500);
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  return { ...f, pool, probe, vault, alice, bob, keeper, attacker, up, down };
}

/** Alice deposited 10 WETH and bob 5, then the keeper levered the position to the policy's target HF (1.5). */
export async function leveredPoolFixture(): Promise<PoolFixture> {
  const f = await poolFixture();
  await mined(f.pool.connect(f.alice).deposit(parseUnits("10", 18), f.alice.address));
  await mined(f.pool.connect(f.bob).deposit(parseUnits("5", 18), f.bob.address));
  await mined(f.pool.connect(f.keeper).lever());
  return f;
}

/**
 * What a refused call must leave unchanged: the position as Aave's scaled balances (free of interest accrued between
 * blocks), the parties' WETH and shares, and the supply.
 */
export async function poolState(f: PoolFixture) {
  const weth = f.tokens.erc20.WETH;
  return {
    collateral: await f.aave.aTokens.WETH.scaledBalanceOf(f.vault),
    debt: await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault),
    supply: await f.pool.totalSupply(),
    wethOf: await Promise.all([f.alice, f.bob, f.attacker].map((s) => weth.balanceOf(s))),
    sharesOf: await Promise.all([f.alice, f.bob, f.attacker].map((s) => f.pool.balanceOf(s))),
  };
}

/** What the probe's transaction compared: the preview and the action's result, read in the same transaction. */
export async function compared(
  probe: ERC4626Probe,
  tx: Promise<ContractTransactionResponse>,
): Promise<{ preview: bigint; actual: bigint; priceBefore: bigint; priceAfter: bigint }> {
  const receipt = await (await tx).wait();
  const address = await probe.getAddress();
  const found: Partial<{ preview: bigint; actual: bigint; priceBefore: bigint; priceAfter: bigint }> = {};
  for (const log of receipt?.logs ?? []) {
    if (log.address !== address) continue;
    const parsed = probe.interface.parseLog(log);
    if (parsed?.name === "Compared") Object.assign(found, { preview: parsed.args.preview, actual: parsed.args.actual });
    if (parsed?.name === "SharePrice") {
      Object.assign(found, { priceBefore: parsed.args.priceBefore, priceAfter: parsed.args.priceAfter });
    }
  }
  const { preview, actual, priceBefore, priceAfter } = found;
  if (preview === undefined || actual === undefined || priceBefore === undefined || priceAfter === undefined) {
    throw new Error("no Compared and SharePrice events");
  }
  return { preview, actual, priceBefore, priceAfter };
}

/** The pool holds nothing between calls, and leaves no allowance behind. */
export async function expectPoolClean(f: PoolFixture): Promise<void> {
  for (const symbol of ["WETH", "USDC"] as const) {
    const token = f.tokens.erc20[symbol];
    expect(await token.balanceOf(f.pool), `pool ${symbol}`).to.equal(0n);
    for (const spender of [f.aave.pool, f.uniswap.router, f.vault]) {
      expect(await token.allowance(f.pool, spender), `pool ${symbol} allowance`).to.equal(0n);
    }
  }
}
