import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { Addressable, ContractTransactionResponse } from "ethers";
import { concat, dataSlice, getAddress, getBytes, parseUnits, Signature, toBeHex, toBigInt, ZeroHash } from "ethers";
import hre from "hardhat";

import { BallastVault__factory, type BallastVault, type IBallastVault } from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT, type AssetSymbol } from "../../lib/market";
import { DEFAULT_POLICY, policyValues, singleHopPath } from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "./fixtures";

export const DEPOSIT = parseUnits("10", 18);
export const TARGET_HF = parseUnits("1.5", 18);
/** A valid policy other than DEFAULT_POLICY (a wider band), for the tests that change a vault's policy. */
export const NEW_POLICY: IBallastVault.PolicyStruct = {
  minHF: parseUnits("1.2", 18),
  targetHF: parseUnits("1.4", 18),
  maxHF: parseUnits("2", 18),
  maxSlippageBps: 50,
  maxKeeperRewardBps: 200,
  maxGasPrice: parseUnits("500", "gwei"),
  maxRewardBase: 1_000n * 10n ** 8n,
  urgentSlippageBps: 150,
};

/** NEW_POLICY as `vault.policy()` returns it. */
export const NEW_POLICY_VALUES = [
  BigInt(NEW_POLICY.minHF),
  BigInt(NEW_POLICY.targetHF),
  BigInt(NEW_POLICY.maxHF),
  BigInt(NEW_POLICY.maxSlippageBps),
  BigInt(NEW_POLICY.maxKeeperRewardBps),
  BigInt(NEW_POLICY.maxGasPrice),
  BigInt(NEW_POLICY.maxRewardBase),
  BigInt(NEW_POLICY.urgentSlippageBps),
];

export const WETH_PRICE = 2_000n * ORACLE_BASE_CURRENCY_UNIT;

export interface VaultFixture extends ProtocolFixture {
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  attacker: HardhatEthersSigner;
  vault: BallastVault;
  /** USDC -> WETH through the 0.05% pool (leverage, open). */
  up: string;
  /** WETH -> USDC through the 0.05% pool (deleverage, close). */
  down: string;
}

/** The protocol with alice's empty WETH/USDC vault (salt 0, DEFAULT_POLICY); alice holds 10 WETH and approved it. */
export async function emptyVaultFixture(): Promise<VaultFixture> {
  const f = await protocolFixture();
  const [, , alice, keeper, attacker] = await hre.ethers.getSigners();
  const weth = f.tokens.erc20.WETH;
  const usdc = f.tokens.erc20.USDC;
  await (await f.factory.connect(alice).createVault(weth, usdc, DEFAULT_POLICY, ZeroHash)).wait();
  const vault = BallastVault__factory.connect(await f.factory.predictVault(alice.address, ZeroHash), alice);
  await f.world.fund("WETH", alice.address, DEPOSIT);
  await (await weth.connect(alice).approve(vault, DEPOSIT)).wait();
  const up = await singleHopPath(f, "USDC", "WETH", 500);
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  return { ...f, alice, keeper, attacker, vault, up, down };
}

/** Alice's vault opened with 10 WETH at target HF 1.5. */
export async function openVaultFixture(): Promise<VaultFixture> {
  const f = await emptyVaultFixture();
  await (await f.vault.open(DEPOSIT, TARGET_HF, f.up)).wait();
  return f;
}

/**
 * Another account (signer 6) supplies 400,000 WETH and borrows every USDC the aToken holds: the debt reserve at 100%
 * utilisation, so Aave has nothing to lend in a flash loan.
 */
export async function drainUsdc(f: ProtocolFixture): Promise<void> {
  const whale = (await hre.ethers.getSigners())[6];
  const [weth, usdc, aUsdc] = [f.tokens.erc20.WETH, f.tokens.erc20.USDC, f.aave.aTokens.USDC];
  const collateral = parseUnits("400000", 18);
  await f.world.fund("WETH", whale.address, collateral);
  await (await weth.connect(whale).approve(f.aave.pool, collateral)).wait();
  await (await f.aave.pool.connect(whale).supply(weth, collateral, whale.address, 0)).wait();
  await (await f.aave.pool.connect(whale).borrow(usdc, await usdc.balanceOf(aUsdc), 2, 0, whale.address)).wait();
}

/** Moves an oracle price (pools arbitraged), then lets the 600-s TWAP catch up and refreshes every feed. */
export async function movePrice(f: ProtocolFixture, symbol: AssetSymbol, price: bigint): Promise<void> {
  await f.world.setPrice(symbol, price);
  await f.world.advance(700);
  await f.world.refreshOracles();
}

/**
 * What the keeper auction reads before it calls `rebalanceForAuction`: the vault's policy within the factory's bounds,
 * and its position.
 */
export async function auctionRead(
  f: ProtocolFixture,
  vault: BallastVault,
): Promise<[IBallastVault.PolicyStruct, IBallastVault.PositionStruct]> {
  // ethers refuses its own frozen results as call arguments: copy them into plain objects.
  const policy = policyValues(await f.factory.boundedPolicy(policyValues(await vault.policy())));
  const [collateralBase, debtBase, liquidationThresholdBps, healthFactor] = await vault.position();
  return [policy, { collateralBase, debtBase, liquidationThresholdBps, healthFactor }];
}

/** Every `Rebalanced` report a transaction emitted from `vault`. */
export async function rebalancedReports(
  vault: BallastVault,
  tx: ContractTransactionResponse,
): Promise<IBallastVault.RebalanceReportStructOutput[]> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const address = await vault.getAddress();
  const reports: IBallastVault.RebalanceReportStructOutput[] = [];
  for (const log of receipt.logs) {
    if (log.address !== address) continue;
    const parsed = vault.interface.parseLog(log);
    if (parsed?.name === "Rebalanced") reports.push(parsed.args.report as IBallastVault.RebalanceReportStructOutput);
  }
  return reports;
}

/** What `expectExecutorClean` reads: the market, an executor, and the vault (or stand-in) that called it. */
export type ExecutorSubject = Pick<VaultFixture, "aave" | "tokens" | "uniswap"> & {
  executor: Addressable;
  vault: Addressable;
};

/** Invariant 1: the executor holds no tokens and no allowances, and the vault delegates it no credit. */
export async function expectExecutorClean(f: ExecutorSubject): Promise<void> {
  const executor = await f.executor.getAddress();
  for (const symbol of ["WETH", "USDC"] as const) {
    const token = f.tokens.erc20[symbol];
    expect(await token.balanceOf(executor), `executor ${symbol} balance`).to.equal(0n);
    expect(await token.allowance(executor, f.aave.pool), `executor ${symbol} allowance to pool`).to.equal(0n);
    expect(await token.allowance(executor, f.uniswap.router), `executor ${symbol} allowance to router`).to.equal(0n);
  }
  expect(await f.aave.variableDebtTokens.USDC.borrowAllowance(f.vault, executor), "credit delegation").to.equal(0n);
}

export interface StateSnapshot {
  position: bigint[];
  balances: bigint[];
}

/** What `snapshotState` reads: a vault, its owner, keeper and attacker, and the executor the vault trusts. */
export type StateSubject = Pick<VaultFixture, "aave" | "tokens" | "vault" | "alice" | "keeper" | "attacker"> & {
  executor: Addressable;
};

/**
 * The vault's position as Aave's scaled aWETH and variable-debt USDC balances, and the WETH/USDC balances of the
 * owner, keeper, attacker and executor. Scaled balances, not `position()`: a reverted transaction still mines a
 * block, and interest accrued over that second moves `debtBase` and the HF although nothing happened.
 */
export async function snapshotState(f: StateSubject): Promise<StateSnapshot> {
  // WBTC too: a collateral switch moves the vault into it.
  const pos = [
    await f.aave.aTokens.WETH.scaledBalanceOf(f.vault),
    await f.aave.aTokens.WBTC.scaledBalanceOf(f.vault),
    await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault),
  ];
  const balances: bigint[] = [];
  for (const holder of [f.alice.address, f.keeper.address, f.attacker.address, await f.executor.getAddress()]) {
    for (const symbol of ["WETH", "WBTC", "USDC"] as const) {
      balances.push(await f.tokens.erc20[symbol].balanceOf(holder));
    }
  }
  return {
    position: pos,
    balances,
  };
}

/** Asserts a failed call left the position and every tracked balance unchanged. */
export async function expectUnchanged(f: StateSubject, before: StateSnapshot): Promise<void> {
  const after = await snapshotState(f);
  expect(after.position, "position").to.deep.equal(before.position);
  expect(after.balances, "balances").to.deep.equal(before.balances);
}

/**
 * A `withArgs` predicate that accepts any bigint and records it. For revert arguments that depend on the block the
 * transaction lands in (interest accrues every second): a reverted transaction is still mined, so the recorded value
 * can then be checked against views read at that block (`latestBlock`).
 */
export class Captured {
  private recorded: bigint | undefined;

  readonly match = (value: unknown): boolean => {
    if (typeof value !== "bigint") return false;
    this.recorded = value;
    return true;
  };

  get value(): bigint {
    if (this.recorded === undefined) throw new Error("Captured: the predicate was never called");
    return this.recorded;
  }
}

/** The latest block's number, as a `blockTag` for views: right after a reverted transaction, the block it ran in. */
export async function latestBlock(): Promise<number> {
  return hre.ethers.provider.getBlockNumber();
}

const RAY = 10n ** 27n;

/** Aave's WadRayMath.rayMul: a * b / RAY, rounded half up. */
export function rayMul(a: bigint, b: bigint): bigint {
  return (a * b + RAY / 2n) / RAY;
}

/** Aave's WadRayMath.rayDiv: a * RAY / b, rounded half up. */
export function rayDiv(a: bigint, b: bigint): bigint {
  return (a * RAY + b / 2n) / b;
}

/** The order n of secp256k1's group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The malleable twin of a 65-byte signature: s' = n - s (now in the upper half) and v flipped between 27 and 28. The
 * `ecrecover` precompile returns the same signer for both; OpenZeppelin's ECDSA refuses a high s (EIP-2).
 */
export function highSSignature(signature: string): string {
  const bytes = getBytes(signature);
  if (bytes.length !== 65) throw new RangeError(`highSSignature: ${bytes.length}-byte signature`);
  const s = toBigInt(bytes.slice(32, 64));
  const v = bytes[64];
  if (v !== 27 && v !== 28) throw new RangeError(`highSSignature: v = ${v}`);
  return concat([bytes.slice(0, 32), toBeHex(SECP256K1_N - s, 32), toBeHex(v === 27 ? 28 : 27, 1)]);
}

/** The 64-byte EIP-2098 compact form (r, yParity and s packed) of a 65-byte signature. */
export function compactSignature(signature: string): string {
  return Signature.from(signature).compactSerialized;
}

/** What the `ecrecover` precompile (address 0x01, which accepts a high s) returns for a digest and a 65-byte signature. */
export async function ecrecoverPrecompile(digest: string, signature: string): Promise<string> {
  const bytes = getBytes(signature);
  const result = await hre.ethers.provider.call({
    to: "0x0000000000000000000000000000000000000001",
    data: concat([digest, toBeHex(bytes[64], 32), bytes.slice(0, 32), bytes.slice(32, 64)]),
  });
  return getAddress(dataSlice(result, 12));
}
