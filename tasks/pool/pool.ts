/** The pool tasks: create a BallastPool on the address book's factory, deposit, redeem, and show it. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MaxUint256, type Signer } from "ethers";

import { DEFAULT_POLICY } from "../../lib/protocol";
import { encodePath } from "../../lib/protocol/path";
import { BallastPool__factory, IERC20Metadata__factory, IPool__factory, type BallastPool } from "../../typechain-types";
import {
  loadContext,
  log,
  parseAddress,
  parseAmount,
  resolveSigner,
  send,
  tokenAddress,
  tokenInfo,
  type TaskContext,
  type TokenInfo,
} from "../shared/context";
import { explain, TaskError } from "../shared/errors";
import * as fmt from "../shared/format";

export interface SignerArgs {
  account?: number;
  key?: string;
  deployments?: string;
}

export interface CreateArgs extends SignerArgs {
  collateral: string;
  debt: string;
  fee: number;
  supplyCap: string;
  guardian?: string;
}

export interface DepositArgs extends SignerArgs {
  pool: string;
  amount: string;
  approve: boolean;
}

export interface RedeemArgs extends SignerArgs {
  pool: string;
  shares?: string;
  all: boolean;
}

export interface StatusArgs {
  pool: string;
  holder?: string;
  deployments?: string;
}

export interface PoolStatus {
  pool: string;
  vault: string;
  asset: string;
  totalAssets: bigint;
  totalSupply: bigint;
  /** Assets one whole share converts to. */
  sharePrice: bigint;
  healthFactor: bigint;
  hasDebt: boolean;
  maxDeposit: bigint;
  depositsPaused: boolean;
  holder?: { address: string; shares: bigint; maxRedeem: bigint; previewRedeem: bigint };
}

export interface CreateResult {
  pool: string;
  vault: string;
}

export interface DepositResult {
  shares: bigint;
  /** Whether this deposit found the position without debt and opened it (`lever`). */
  levered: boolean;
  status: PoolStatus;
}

export interface RedeemResult {
  shares: bigint;
  assets: bigint;
  preview: bigint;
  status: PoolStatus;
}

function signer(hre: HardhatRuntimeEnvironment, args: SignerArgs): Promise<Signer> {
  return resolveSigner(hre, args.key, args.account, { names: ["--key", "--account"], fallbackAccount: 0 });
}

/** `--pool`: a BallastPool whose vault is one of the address book's factory. */
async function poolAt(ctx: TaskContext, address: string): Promise<BallastPool> {
  const pool = BallastPool__factory.connect(parseAddress(address, "--pool"), ctx.hre.ethers.provider);
  if ((await ctx.hre.ethers.provider.getCode(pool)) === "0x") {
    throw new TaskError(`No contract at ${address}: create a pool with \`npx hardhat pool:create\``);
  }
  const vault = await pool.VAULT().catch(() => undefined);
  if (vault === undefined || !(await ctx.factory.isVault(vault))) {
    throw new TaskError(`${address} is not a BallastPool of the factory ${ctx.book.contracts.factory}: check --pool`);
  }
  return pool;
}

async function readStatus(pool: BallastPool, holder?: string): Promise<PoolStatus> {
  const provider = pool.runner?.provider;
  if (provider === undefined || provider === null) throw new TaskError("The pool has no provider");
  const vault = await pool.VAULT();
  const [, debt] = await pool.holdings();
  const aave = IPool__factory.connect(await pool.POOL(), provider);
  const { healthFactor } = await aave.getUserAccountData(vault);
  const shares = holder === undefined ? 0n : await pool.balanceOf(holder);
  return {
    pool: await pool.getAddress(),
    vault,
    asset: await pool.asset(),
    totalAssets: await pool.totalAssets(),
    totalSupply: await pool.totalSupply(),
    sharePrice: await pool.convertToAssets(10n ** (await pool.decimals())),
    healthFactor,
    hasDebt: debt !== 0n,
    maxDeposit: await pool.maxDeposit(holder ?? vault),
    depositsPaused: await pool.depositsPaused(),
    holder:
      holder === undefined
        ? undefined
        : {
            address: holder,
            shares,
            maxRedeem: await pool.maxRedeem(holder),
            previewRedeem: await pool.previewRedeem(shares),
          },
  };
}

function statusLines(s: PoolStatus, asset: TokenInfo, shareDecimals: number): string[] {
  const lines = [
    `Pool ${s.pool} (vault ${s.vault})`,
    `  total assets   ${fmt.token(s.totalAssets, asset.decimals, asset.symbol)} (equity at the oracle price)`,
    `  shares         ${fmt.fixed(s.totalSupply, shareDecimals, 4, true)} · one share ${fmt.token(s.sharePrice, asset.decimals, asset.symbol)}`,
    `  position HF    ${s.hasDebt ? fmt.hf(s.healthFactor) : "no debt yet (pool:deposit levers the first deposits)"}`,
    `  deposits       ${s.depositsPaused ? "paused by the guardian" : s.maxDeposit === MaxUint256 ? "open, no cap" : `open, room ${fmt.token(s.maxDeposit, asset.decimals, asset.symbol)}`}`,
  ];
  if (s.holder !== undefined) {
    lines.push(
      `  ${s.holder.address}: ${fmt.fixed(s.holder.shares, shareDecimals, 4, true)} shares, redeemable now ${fmt.fixed(s.holder.maxRedeem, shareDecimals, 4, true)}, worth at least ${fmt.token(s.holder.previewRedeem, asset.decimals, asset.symbol)}`,
    );
  }
  return lines;
}

export async function createTask(args: CreateArgs, hre: HardhatRuntimeEnvironment): Promise<CreateResult> {
  const ctx = await loadContext(hre, args.deployments);
  const deployer = await signer(hre, args);
  const collateral = tokenAddress(ctx, args.collateral, "--collateral");
  const debt = tokenAddress(ctx, args.debt, "--debt");
  if (!(await ctx.factory.isPairAllowed(collateral, debt))) {
    throw new TaskError(`The factory does not allow ${args.collateral}/${args.debt}: governance allows pairs`);
  }
  const info = await tokenInfo(ctx, collateral);
  const supplyCap = parseAmount(args.supplyCap, info, "--supply-cap");
  const deployerAddress = await deployer.getAddress();
  const guardian = args.guardian === undefined ? deployerAddress : parseAddress(args.guardian, "--guardian");
  const symbol = await IERC20Metadata__factory.connect(debt, hre.ethers.provider).symbol();
  log(`Creating a ${info.symbol}/${symbol} pool (exits through the ${args.fee / 10_000}% pool)`);
  const factory = new BallastPool__factory(deployer);
  let pool: BallastPool;
  try {
    pool = await factory.deploy({
      factory: ctx.book.contracts.factory,
      addressesProvider: await IPool__factory.connect(
        ctx.book.contracts.pool,
        hre.ethers.provider,
      ).ADDRESSES_PROVIDER(),
      router: ctx.book.contracts.router,
      asset: collateral,
      debtAsset: debt,
      policy: DEFAULT_POLICY,
      exitPath: encodePath([collateral, debt], [args.fee]),
      supplyCap,
      governance: deployerAddress,
      guardian,
      name: `Ballast ${info.symbol}/${symbol}`,
      symbol: `b${info.symbol}x`,
    });
    await pool.waitForDeployment();
  } catch (e) {
    throw explain("Creating the pool", e);
  }
  const result = { pool: await pool.getAddress(), vault: await pool.VAULT() };
  log(`  ✓ pool ${result.pool}, its position in vault ${result.vault}; governance and guardian ${guardian}`);
  log(`Deposit with \`npx hardhat pool:deposit --pool ${result.pool} --amount 1 --approve\``);
  return result;
}

export async function depositTask(args: DepositArgs, hre: HardhatRuntimeEnvironment): Promise<DepositResult> {
  const ctx = await loadContext(hre, args.deployments);
  const pool = await poolAt(ctx, args.pool);
  const holder = await signer(hre, args);
  const address = await holder.getAddress();
  const asset = await tokenInfo(ctx, await pool.asset());
  const amount = parseAmount(args.amount, asset, "--amount");
  if (amount === 0n) throw new TaskError("--amount must be more than 0");
  const token = IERC20Metadata__factory.connect(asset.address, holder);
  const balance = await token.balanceOf(address);
  if (balance < amount) {
    throw new TaskError(
      `${address} holds ${fmt.token(balance, asset.decimals, asset.symbol)}, less than --amount ${args.amount}`,
    );
  }
  const room = await pool.maxDeposit(address);
  if (amount > room) {
    throw new TaskError(
      room === 0n
        ? "The pool takes no deposits now (paused by its guardian, the reserve frozen or paused, or the oracle stale): see pool:status"
        : `--amount is above what the pool takes now, ${fmt.token(room, asset.decimals, asset.symbol)} (its supply cap)`,
    );
  }
  if ((await token.allowance(address, pool)) < amount) {
    if (!args.approve) {
      throw new TaskError(`The pool may not pull ${args.amount} ${asset.symbol} from ${address}: pass --approve`);
    }
    await send(`approve the pool for ${args.amount} ${asset.symbol}`, () => token.approve(pool, amount));
  }
  const preview = await pool.previewDeposit(amount);
  const before = await pool.balanceOf(address);
  await send(`deposit ${args.amount} ${asset.symbol}`, () => pool.connect(holder).deposit(amount, address));
  const shares = (await pool.balanceOf(address)) - before;
  const [, debt] = await pool.holdings();
  const levered = debt === 0n;
  if (levered) await send("lever: open the position at its target HF", () => pool.connect(holder).lever());
  const status = await readStatus(pool, address);
  const decimals = Number(await pool.decimals());
  log(`Minted ${fmt.fixed(shares, decimals, 4, true)} shares (previewed ${fmt.fixed(preview, decimals, 4, true)})`);
  for (const line of statusLines(status, asset, decimals)) log(line);
  return { shares, levered, status };
}

export async function redeemTask(args: RedeemArgs, hre: HardhatRuntimeEnvironment): Promise<RedeemResult> {
  const ctx = await loadContext(hre, args.deployments);
  const pool = await poolAt(ctx, args.pool);
  const holder = await signer(hre, args);
  const address = await holder.getAddress();
  const decimals = Number(await pool.decimals());
  if (args.all === (args.shares !== undefined)) throw new TaskError("Pass either --shares <amount> or --all");
  const held = await pool.balanceOf(address);
  const shares = args.all
    ? held
    : parseAmount(args.shares ?? "", { address: args.pool, symbol: "shares", decimals }, "--shares");
  if (shares === 0n) throw new TaskError(`${address} has no shares of the pool to redeem`);
  if (shares > held) {
    throw new TaskError(`${address} holds ${fmt.fixed(held, decimals, 4, true)} shares, fewer than --shares`);
  }
  const most = await pool.maxRedeem(address);
  if (shares > most) {
    throw new TaskError(
      most === 0n
        ? "The pool lets no one out now: its position is under its minHF (a keeper restores the band: " +
            "`npx hardhat keeper:run`, or anyone's vault.rebalance), or an Aave reserve is paused, or the oracle is stale"
        : `At most ${fmt.fixed(most, decimals, 4, true)} shares can be redeemed now`,
    );
  }
  const asset = await tokenInfo(ctx, await pool.asset());
  const token = IERC20Metadata__factory.connect(asset.address, hre.ethers.provider);
  const preview = await pool.previewRedeem(shares);
  const before = await token.balanceOf(address);
  await send(`redeem ${fmt.fixed(shares, decimals, 4, true)} shares`, () =>
    pool.connect(holder).redeem(shares, address, address),
  );
  const assets = (await token.balanceOf(address)) - before;
  log(
    `Received ${fmt.token(assets, asset.decimals, asset.symbol)} (at least ${fmt.token(preview, asset.decimals, asset.symbol)} was promised)`,
  );
  const status = await readStatus(pool, address);
  for (const line of statusLines(status, asset, decimals)) log(line);
  return { shares, assets, preview, status };
}

export async function statusTask(args: StatusArgs, hre: HardhatRuntimeEnvironment): Promise<PoolStatus> {
  const ctx = await loadContext(hre, args.deployments);
  const pool = await poolAt(ctx, args.pool);
  const holder = args.holder === undefined ? undefined : parseAddress(args.holder, "--holder");
  const status = await readStatus(pool, holder);
  const asset = await tokenInfo(ctx, status.asset);
  for (const line of statusLines(status, asset, Number(await pool.decimals()))) log(line);
  return status;
}
