import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import type { ContractTransactionResponse, Result } from "ethers";
import { ZeroHash } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  type BallastVault,
  type IKeeperAuction,
  type KeeperAuction,
} from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY } from "../../lib/protocol";
import { DEPOSIT, movePrice, openVaultFixture, TARGET_HF, type VaultFixture } from "./vault";

/** WETH at 1,600 USD: 20% below the 2,000 the vaults open at, so HF 1.5 falls to about 1.2, under minHF 1.3. */
export const DROPPED_PRICE = 1_600n * ORACLE_BASE_CURRENCY_UNIT;
/**
 * WETH at 2,600 USD: 30% above, so HF 1.5 rises to about 1.95, over maxHF 1.8. (At 2,400, +20%, the HF would be
 * 1.8 and a hair, a few wei of interest from falling back into the band: too thin for a fixture.)
 */
export const RAISED_PRICE = 2_600n * ORACLE_BASE_CURRENCY_UNIT;

export interface KeeperFixture extends VaultFixture {
  /** Where the keepers' rewards go, unless a test names another recipient. */
  recipient: HardhatEthersSigner;
  /** A second keeper, for races. */
  keeper2: HardhatEthersSigner;
}

export interface KickedFixture extends KeeperFixture {
  /** The kick's block timestamp, as `auctionOf(vault).kickedAt` holds it. */
  kickedAt: bigint;
  /** The HF at the kick, as `auctionOf(vault).hfAtKick` holds it. */
  hfAtKick: bigint;
  /** The kick's gas price the kicker is refunded at, as `auctionOf(vault).kickGasPrice` holds it. */
  kickGasPrice: bigint;
}

export interface BatchFixture extends KickedFixture {
  /** Alice's, bob's and carol's vaults, in that order, each opened with 10 WETH at HF 1.5, dropped and kicked. */
  vaults: BallastVault[];
  /** Their owners, in the same order. */
  owners: HardhatEthersSigner[];
  /** Each vault's kick timestamp, in the same order. */
  kicks: bigint[];
  /** Each vault's kick gas price, in the same order. */
  kickGasPrices: bigint[];
}

/** Alice's opened vault (`openVaultFixture`), a reward recipient and a second keeper. */
export async function keeperFixture(): Promise<KeeperFixture> {
  const f = await openVaultFixture();
  const signers = await hre.ethers.getSigners();
  return { ...f, recipient: signers[5], keeper2: signers[6] };
}

/** Alice's vault after WETH fell 2,000 -> 1,600: HF about 1.2, needs a Deleverage; no auction yet. */
export async function droppedVaultFixture(): Promise<KeeperFixture> {
  const f = await keeperFixture();
  await movePrice(f, "WETH", DROPPED_PRICE);
  return f;
}

/** Alice's vault after WETH rose 2,000 -> 2,600: HF about 1.95, needs a Leverage; no auction yet. */
export async function raisedVaultFixture(): Promise<KeeperFixture> {
  const f = await keeperFixture();
  await movePrice(f, "WETH", RAISED_PRICE);
  return f;
}

/** `droppedVaultFixture` with the auction kicked by the keeper. */
export async function kickedVaultFixture(): Promise<KickedFixture> {
  return kick(await droppedVaultFixture());
}

/** `raisedVaultFixture` with the auction kicked by the keeper: the leverage side. */
export async function kickedLeverageFixture(): Promise<KickedFixture> {
  return kick(await raisedVaultFixture());
}

/**
 * Three WETH/USDC vaults (alice's, bob's, carol's; each owner's salt 0, DEFAULT_POLICY), each opened with 10 WETH at
 * HF 1.5; then WETH fell to 1,600 and the keeper kicked all three.
 */
export async function kickedBatchFixture(): Promise<BatchFixture> {
  const f = await keeperFixture();
  const signers = await hre.ethers.getSigners();
  const [bob, carol] = [signers[7], signers[8]];
  const vaults = [f.vault];
  for (const owner of [bob, carol]) vaults.push(await openOwnVault(f, owner));
  await movePrice(f, "WETH", DROPPED_PRICE);
  const kicks: bigint[] = [];
  const kickGasPrices: bigint[] = [];
  for (const vault of vaults) {
    await (await f.auction.connect(f.keeper).kick(vault)).wait();
    const { kickedAt, kickGasPrice } = await f.auction.auctionOf(vault);
    kicks.push(kickedAt);
    kickGasPrices.push(kickGasPrice);
  }
  const a = await f.auction.auctionOf(f.vault);
  return {
    ...f,
    kickedAt: a.kickedAt,
    hfAtKick: a.hfAtKick,
    kickGasPrice: a.kickGasPrice,
    vaults,
    owners: [f.alice, bob, carol],
    kicks,
    kickGasPrices,
  };
}

/** Creates `owner`'s WETH/USDC vault (salt 0, DEFAULT_POLICY) and opens it with 10 WETH at HF 1.5. */
export async function openOwnVault(f: VaultFixture, owner: HardhatEthersSigner): Promise<BallastVault> {
  const weth = f.tokens.erc20.WETH;
  await (await f.factory.connect(owner).createVault(weth, f.tokens.erc20.USDC, DEFAULT_POLICY, ZeroHash)).wait();
  const vault = BallastVault__factory.connect(await f.factory.predictVault(owner.address, ZeroHash), owner);
  await f.world.fund("WETH", owner.address, DEPOSIT);
  await (await weth.connect(owner).approve(vault, DEPOSIT)).wait();
  await (await vault.open(DEPOSIT, TARGET_HF, f.up)).wait();
  return vault;
}

async function kick<F extends KeeperFixture>(f: F): Promise<F & KickedFixture> {
  await (await f.auction.connect(f.keeper).kick(f.vault)).wait();
  const a = await f.auction.auctionOf(f.vault);
  return { ...f, kickedAt: a.kickedAt, hfAtKick: a.hfAtKick, kickGasPrice: a.kickGasPrice };
}

/** The arguments of every `name` event a transaction emitted from the auction, in order. */
async function auctionEvents(auction: KeeperAuction, tx: ContractTransactionResponse, name: string): Promise<Result[]> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const address = await auction.getAddress();
  const out: Result[] = [];
  for (const log of receipt.logs) {
    if (log.address !== address) continue;
    const parsed = auction.interface.parseLog(log);
    if (parsed?.name === name) out.push(parsed.args);
  }
  return out;
}

/** The `KickRefunded` events of a transaction: each kicker refunded out of an execution's reward. */
export async function kickRefunds(
  auction: KeeperAuction,
  tx: ContractTransactionResponse,
): Promise<{ vault: string; kicker: string; amount: bigint }[]> {
  return (await auctionEvents(auction, tx, "KickRefunded")).map(([vault, kicker, amount]) => ({
    vault: vault as string,
    kicker: kicker as string,
    amount: amount as bigint,
  }));
}

/** Every `Executed` event a transaction emitted from the auction, with its arguments. */
export async function executedEvents(
  auction: KeeperAuction,
  tx: ContractTransactionResponse,
): Promise<
  { vault: string; keeper: string; recipient: string; rewardBps: bigint; gasRewardBase: bigint; reward: bigint }[]
> {
  return (await auctionEvents(auction, tx, "Executed")).map(
    ({ vault, keeper, recipient, rewardBps, gasRewardBase, reward }) => ({
      vault,
      keeper,
      recipient,
      rewardBps,
      gasRewardBase,
      reward,
    }),
  );
}

/** What `expectAuctionClean` reads: the market, the auction, and every address it could have approved. */
export type AuctionSubject = Pick<VaultFixture, "aave" | "tokens" | "uniswap" | "executor" | "auction" | "vault">;

/**
 * Invariant 1 for the auction: it holds no WETH and no USDC beyond `owedUsdc` (rewards credited for `claim`), and it
 * has approved no one: not the vaults, the executor, the Aave pool or the router.
 */
export async function expectAuctionClean(f: AuctionSubject, vaults: BallastVault[] = [], owedUsdc = 0n): Promise<void> {
  const auction = await f.auction.getAddress();
  const spenders = [f.vault, ...vaults, f.executor, f.aave.pool, f.uniswap.router];
  for (const symbol of ["WETH", "USDC"] as const) {
    const token = f.tokens.erc20[symbol];
    const held = symbol === "USDC" ? owedUsdc : 0n;
    expect(await token.balanceOf(auction), `auction ${symbol} balance`).to.equal(held);
    for (const spender of spenders) {
      expect(await token.allowance(auction, spender), `auction ${symbol} allowance`).to.equal(0n);
    }
  }
}

/** The auction's configuration with some fields replaced, as `setConfig` takes it. */
export function withConfig(
  base: IKeeperAuction.ConfigStruct,
  change: Partial<IKeeperAuction.ConfigStruct>,
): IKeeperAuction.ConfigStruct {
  return { ...base, ...change };
}
