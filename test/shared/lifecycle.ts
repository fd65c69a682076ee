/**
 * One vault's life on a deployment made by the deploy scripts: open, a price crash seen by the Aave oracle, the keeper
 * bot's auction deleveraging it through Uniswap, close. The same body runs on the local market (test/deploy) and on
 * a mainnet fork (test/fork), so the fork's code path is exercised without an RPC.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { impersonateAccount, mine, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits, toQuantity, ZeroHash } from "ethers";
import hre from "hardhat";

import type { AssetSymbol } from "../../lib/deploy";
import { DEFAULT_POLICY, encodePath } from "../../lib/protocol";
import {
  AaveOracle__factory,
  ACLManager__factory,
  BallastVault__factory,
  IERC20__factory,
  IPoolAddressesProvider__factory,
  MockAggregatorV3__factory,
  WETH9__factory,
  type IBallastVault,
  type MockAggregatorV3,
} from "../../typechain-types";
import type { PassSummary } from "../../tasks/keeper/types";
import { keeperOnceArgs, runTask } from "../tasks/helpers";
import type { DeployedBallast } from "./deployment";

/** A band a few percent wide below the target, so a crash the price guard still accepts takes the vault out of it. */
export const LIFECYCLE_POLICY: IBallastVault.PolicyStruct = {
  minHF: parseUnits("1.45", 18),
  targetHF: parseUnits("1.5", 18),
  maxHF: parseUnits("1.8", 18),
  maxSlippageBps: 100,
  maxKeeperRewardBps: 100,
  maxGasPrice: DEFAULT_POLICY.maxGasPrice,
  maxRewardBase: DEFAULT_POLICY.maxRewardBase,
  urgentSlippageBps: DEFAULT_POLICY.urgentSlippageBps,
};

export const LIFECYCLE_DEPOSIT = parseUnits("10", 18);

/**
 * The crash: WETH -4.5%. HF 1.5 falls to about 1.43, below minHF 1.45, while the oracle stays within the price
 * guard's 500 bps bound of the Uniswap TWAP, which the crash does not move.
 */
export const CRASH_BPS = 450n;

const BPS = 10_000n;
const ORACLE_ASSETS: readonly AssetSymbol[] = ["WETH", "USDC"];

/**
 * Takes over the Aave oracle's sources of WETH and USDC: impersonates the ACL admin of the PoolAddressesProvider,
 * makes it a pool admin if it is not one, and points the AaveOracle at mock Chainlink feeds answering today's prices.
 * Aave's real pool, reserves and liquidations then price with the mocks.
 */
export async function takeOverOracle(d: DeployedBallast): Promise<Record<"WETH" | "USDC", MockAggregatorV3>> {
  const provider = IPoolAddressesProvider__factory.connect(d.external.addressesProvider, hre.ethers.provider);
  const adminAddress = await provider.getACLAdmin();
  await impersonateAccount(adminAddress);
  await setBalance(adminAddress, 10n ** 20n);
  const admin = await hre.ethers.getSigner(adminAddress);
  const acl = ACLManager__factory.connect(await provider.getACLManager(), admin);
  if (!(await acl.isPoolAdmin(adminAddress))) await (await acl.addPoolAdmin(adminAddress)).wait();
  const oracle = AaveOracle__factory.connect(d.external.oracle, admin);
  const [deployer] = await hre.ethers.getSigners();
  const feeds = {} as Record<"WETH" | "USDC", MockAggregatorV3>;
  for (const symbol of ORACLE_ASSETS) {
    const price = await oracle.getAssetPrice(d.external.tokens[symbol]);
    feeds[symbol as "WETH" | "USDC"] = await new MockAggregatorV3__factory(deployer).deploy(
      8,
      `${symbol} / USD`,
      price,
    );
  }
  const tokens = ORACLE_ASSETS.map((s) => d.external.tokens[s]);
  await (await oracle.setAssetSources(tokens, [feeds.WETH, feeds.USDC])).wait();
  for (const [i, token] of tokens.entries()) {
    expect(await oracle.getSourceOfAsset(token)).to.equal(await Object.values(feeds)[i].getAddress());
  }
  return feeds;
}

async function balances(token: string, holders: readonly string[]): Promise<bigint[]> {
  const erc20 = IERC20__factory.connect(token, hre.ethers.provider);
  return Promise.all(holders.map((h) => erc20.balanceOf(h)));
}

/** The whole life of a WETH/USDC vault of `owner`, asserting each step; `keeperIndex` is the keeper's signer index. */
export async function vaultLifecycle(
  d: DeployedBallast,
  owner: HardhatEthersSigner,
  keeperIndex: number,
): Promise<void> {
  const keeper = (await hre.ethers.getSigners())[keeperIndex];
  const { WETH: weth, USDC: usdc } = d.external.tokens;
  const feeds = await takeOverOracle(d);

  // Open: 10 WETH wrapped from ETH, levered to HF 1.5 through the real USDC -> WETH 0.05% pool.
  await (await WETH9__factory.connect(weth, owner).deposit({ value: LIFECYCLE_DEPOSIT })).wait();
  await (await d.factory.connect(owner).createVault(weth, usdc, LIFECYCLE_POLICY, ZeroHash)).wait();
  const vault = BallastVault__factory.connect(await d.factory.predictVault(owner.address, ZeroHash), owner);
  await (await WETH9__factory.connect(weth, owner).approve(vault, LIFECYCLE_DEPOSIT)).wait();
  await (await vault.open(LIFECYCLE_DEPOSIT, LIFECYCLE_POLICY.targetHF, encodePath([usdc, weth], [500]))).wait();
  const opened = await vault.position();
  expect(opened.healthFactor).to.be.closeTo(BigInt(LIFECYCLE_POLICY.targetHF), parseUnits("0.02", 18));
  expect((await vault.rebalanceNeeded()).needed).to.equal(false);

  // The crash, seen only by the Aave oracle; the USDC feed is re-posted so that neither is stale.
  const wethPrice = await feeds.WETH.latestAnswer();
  await (await feeds.WETH.setAnswer((wethPrice * (BPS - CRASH_BPS)) / BPS)).wait();
  await (await feeds.USDC.setAnswer(await feeds.USDC.latestAnswer())).wait();
  const crashed = await vault.position();
  expect(crashed.healthFactor).to.be.lessThan(BigInt(LIFECYCLE_POLICY.minHF));
  expect((await vault.rebalanceNeeded()).needed).to.equal(true);

  // The keeper bot: the first pass kicks the auction, the second, five minutes later, executes it. A fork starts at
  // mainnet's base fee of its block; at 1 gwei the reward on a 10 WETH vault beats the gas, which is not under test.
  await hre.network.provider.send("hardhat_setNextBlockBaseFeePerGas", [toQuantity(parseUnits("1", "gwei"))]);
  await mine();
  const [usdcBefore] = await balances(usdc, [keeper.address]);
  const kick = await runTask<PassSummary>("keeper:run", keeperOnceArgs(d.book, keeperIndex, d.factoryBlock));
  expect(kick.result.kicked).to.deep.equal([await vault.getAddress()]);
  await time.increase(300);
  const pass = await runTask<PassSummary>("keeper:run", keeperOnceArgs(d.book, keeperIndex, d.factoryBlock));
  expect(pass.result.failed).to.deep.equal([]);
  expect(pass.result.executed).to.have.length(1);
  const [executed] = pass.result.executed;
  expect(executed.vault).to.equal(await vault.getAddress());
  expect(executed.reward).to.be.greaterThan(0n);
  const [usdcAfter] = await balances(usdc, [keeper.address]);
  expect(usdcAfter - usdcBefore).to.equal(executed.reward);
  const rebalanced = await vault.position();
  expect(rebalanced.healthFactor).to.be.within(BigInt(LIFECYCLE_POLICY.minHF), BigInt(LIFECYCLE_POLICY.maxHF));
  expect(rebalanced.healthFactor).to.be.closeTo(BigInt(LIFECYCLE_POLICY.targetHF), parseUnits("0.02", 18));
  expect((await vault.rebalanceNeeded()).needed).to.equal(false);
  const machinery = [await d.executor.getAddress(), await d.auction.getAddress()];
  for (const token of [weth, usdc]) expect(await balances(token, machinery)).to.deep.equal([0n, 0n]);

  // Close: the debt repaid through the WETH -> USDC pool, the rest of the collateral back to the owner.
  const [ownerWethBefore] = await balances(weth, [owner.address]);
  const [collateralReturned] = await vault.close.staticCall(encodePath([weth, usdc], [500]));
  await (await vault.close(encodePath([weth, usdc], [500]))).wait();
  const [ownerWethAfter] = await balances(weth, [owner.address]);
  expect(collateralReturned).to.be.greaterThan(0n);
  expect(ownerWethAfter - ownerWethBefore).to.equal(collateralReturned);
  const closed = await vault.position();
  expect([closed.collateralBase, closed.debtBase]).to.deep.equal([0n, 0n]);
  for (const token of [weth, usdc]) expect(await balances(token, machinery)).to.deep.equal([0n, 0n]);
}
