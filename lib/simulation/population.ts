/**
 * The simulated vault owners: one WETH/USDC vault each, with a seeded deposit and a seeded leverage preference (the
 * HF the `static` policy opens at). Owners are fixed impersonated addresses, like the market's actors, so every run
 * and every policy sees the same owners and, from one factory, the same vault addresses.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { getAddress, keccak256, toQuantity, toUtf8Bytes, ZeroHash } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import type { VaultFactory } from "../../typechain-types";
import { mined } from "../market/aave";
import type { Market } from "../market";
import { Random, streamSeed } from "./random";

export interface VaultSpec {
  index: number;
  owner: string;
  /** WETH deposited at the open, wei. */
  deposit: bigint;
  /**
   * The HF the owner would pick by hand (WAD, a multiple of 0.01). Kept for the draws' sake, but no run opens at
   * it: `static` opens at the HF of the policy it is matched to (lib/simulation/baselines.ts).
   */
  hf0: bigint;
}

/** Deposits are drawn in hundredths of WETH from this range, both ends included. */
export const DEPOSIT_WETH = { min: 5, max: 20 } as const;
/**
 * Deposits against mainnet-calibrated liquidity (the `liquidity` stress), WETH: log-normal with a median of 40 WETH
 * ($80k at the local $2,000) and σ = 1 (mean ≈ 66 WETH), clipped to [5, 250], drawn in hundredths. An assumption sized on
 * the pools rather than a fit: leveraged ETH positions on Aave V3 Ethereum run from a few thousand dollars to tens of
 * millions, heavy-tailed; these 30 default vaults (≈ 2,000 WETH deposited, ≈ $9M of WETH collateral at 2-3x) hold about
 * a full 2% of the calibrated pools' depth (≈ $10M) in debt to unwind, so their deleveraging moves the pools, as a
 * real book of that size would. The clip keeps a single open (a buy of up to ~3x the deposit) within the vault's 1%
 * slippage bound in the 0.05% pool.
 */
export const MAINNET_DEPOSIT_WETH = { median: 40, sigma: 1, min: 5, max: 250 } as const;

/** `local`: the default 5-20 WETH; `mainnet`: `MAINNET_DEPOSIT_WETH`, for the mainnet-calibrated pools. */
export type DepositSizing = "local" | "mainnet";

/** Leverage preferences, HF in hundredths, both ends included. */
export const HF0 = { min: 1.25, max: 1.65 } as const;

/** Each vault is its owner's first, at salt 0. */
export const VAULT_SALT = ZeroHash;

const POPULATION_STREAM = 1;
const HUNDREDTH = 10n ** 16n;
/** ETH for the owners' own transactions (create, approve, open, pause). */
const OWNER_ETH = 10n ** 21n;

/** A whole number of hundredths in [min, max], both included. */
function hundredths(random: Random, min: number, max: number): bigint {
  const low = Math.round(min * 100);
  const high = Math.round(max * 100);
  return BigInt(low + Math.floor(random.next() * (high - low + 1)));
}

/** A log-normal deposit in hundredths of WETH, clipped to the range. */
function mainnetDeposit(random: Random): bigint {
  const { median, sigma, min, max } = MAINNET_DEPOSIT_WETH;
  const weth = Math.min(max, Math.max(min, median * Math.exp(sigma * random.normal())));
  return BigInt(Math.round(weth * 100));
}

export function buildPopulation(count: number, seed: number, sizing: DepositSizing = "local"): VaultSpec[] {
  const random = new Random(streamSeed(seed, POPULATION_STREAM));
  return Array.from({ length: count }, (_, index) => ({
    index,
    owner: ownerAddress(index),
    deposit:
      (sizing === "mainnet" ? mainnetDeposit(random) : hundredths(random, DEPOSIT_WETH.min, DEPOSIT_WETH.max)) *
      HUNDREDTH,
    hf0: hundredths(random, HF0.min, HF0.max) * HUNDREDTH,
  }));
}

/** A fixed address per owner index, like the market's roles. */
export function ownerAddress(index: number): string {
  return getAddress(keccak256(toUtf8Bytes(`ballast.simulation.owner.${index}`)).slice(0, 42));
}

/**
 * Impersonates every owner, gives it ETH for gas and its WETH deposit, and approves its future vault (the factory's
 * `predictVault` at salt 0) for the deposit: all of it before the per-policy snapshot, so each policy only creates and
 * opens.
 */
export async function prepareOwners(
  hre: HardhatRuntimeEnvironment,
  market: Market,
  factory: VaultFactory,
  specs: readonly VaultSpec[],
): Promise<HardhatEthersSigner[]> {
  const weth = market.tokens.erc20.WETH;
  const signers: HardhatEthersSigner[] = [];
  for (const spec of specs) {
    await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [spec.owner] });
    await hre.network.provider.request({ method: "hardhat_setBalance", params: [spec.owner, toQuantity(OWNER_ETH)] });
    const owner = await hre.ethers.getSigner(spec.owner);
    await market.world.fund("WETH", spec.owner, spec.deposit);
    await mined(weth.connect(owner).approve(await factory.predictVault(spec.owner, VAULT_SALT), spec.deposit));
    signers.push(owner);
  }
  return signers;
}
