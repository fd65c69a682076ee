/** The keeper specs' market: four vaults, the bot's account, a rival keeper, and the bot as the task builds it. */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { parseUnits, toBeHex, zeroPadValue } from "ethers";
import hre from "hardhat";

import { BallastVault__factory, type BallastVault } from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY, singleHopPath } from "../../lib/protocol";
import { setupKeeper, type KeeperArgs, type KeeperSetup } from "../../tasks/keeper/run";
import { movePrice } from "../shared/vault";
import { keeperOnceArgs, tasksFixture, type TasksFixture } from "./helpers";

/** Signer indices: 2 owns the vaults (helpers' ALICE), 6 runs the bot, 7 is a rival keeper. */
export const KEEPER = 6;
export const RIVAL = 7;

export interface KeeperFixture extends TasksFixture {
  keeper: HardhatEthersSigner;
  rival: HardhatEthersSigner;
  /** WETH/USDC at HF 1.5: below its band after WETH falls 15%. */
  v1: BallastVault;
  /** WETH/USDC at HF 1.7: still in band (1.445) after the fall. */
  v2: BallastVault;
  /** WETH/USDC at HF 1.45: below its band after the fall. */
  v3: BallastVault;
  /** WBTC/USDC at HF 1.5: above its band after WBTC rises 25%. */
  btc: BallastVault;
  /** WETH -> USDC through the 0.05% pool. */
  down: string;
}

export async function openVault(
  f: TasksFixture,
  salt: number,
  collateral: "WETH" | "WBTC",
  amount: bigint,
  targetHf: string,
): Promise<BallastVault> {
  const owner = f.alice;
  const saltHex = zeroPadValue(toBeHex(salt), 32);
  const token = f.tokens.erc20[collateral];
  await (await f.factory.connect(owner).createVault(token, f.tokens.erc20.USDC, DEFAULT_POLICY, saltHex)).wait();
  const vault = BallastVault__factory.connect(await f.factory.predictVault(owner.address, saltHex), owner);
  await f.world.fund(collateral, owner.address, amount);
  await (await token.connect(owner).approve(vault, amount)).wait();
  const path = await singleHopPath(f, "USDC", collateral, collateral === "WETH" ? 500 : 3_000);
  await (await vault.open(amount, parseUnits(targetHf, 18), path)).wait();
  return vault;
}

/** Three WETH/USDC vaults and one WBTC/USDC vault, all in band. */
export async function keeperFixture(): Promise<KeeperFixture> {
  const f = await tasksFixture();
  const signers = await hre.ethers.getSigners();
  const v1 = await openVault(f, 1, "WETH", parseUnits("10", 18), "1.5");
  const v2 = await openVault(f, 2, "WETH", parseUnits("10", 18), "1.7");
  const v3 = await openVault(f, 3, "WETH", parseUnits("10", 18), "1.45");
  const btc = await openVault(f, 4, "WBTC", parseUnits("1", 8), "1.5");
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  return { ...f, keeper: signers[KEEPER], rival: signers[RIVAL], v1, v2, v3, btc, down };
}

/** WETH -15% (v1, v3 below minHF 1.3), WBTC +25% (btc above maxHF 1.8); v2 stays in band. */
export async function outOfBandFixture(): Promise<KeeperFixture> {
  const f = await keeperFixture();
  await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
  await movePrice(f, "WBTC", 75_000n * ORACLE_BASE_CURRENCY_UNIT);
  return f;
}

export function keeperArgs(f: KeeperFixture | TasksFixture, extra: Partial<KeeperArgs> = {}): KeeperArgs {
  return keeperOnceArgs(f.book, KEEPER, 0, extra);
}

/** The bot as the task builds it, with its log lines captured. */
export async function bot(
  f: KeeperFixture,
  extra: Partial<KeeperArgs> = {},
): Promise<KeeperSetup & { lines: string[] }> {
  const lines: string[] = [];
  const setup = await setupKeeper(hre, keeperArgs(f, extra), { sink: (line) => lines.push(line) });
  return { ...setup, lines };
}
