/**
 * What every Ballast task needs: the address book and the contracts it names, signers from `--account` / `--key`,
 * token and swap-path resolution, input parsing with errors that name the flag, and transaction sending with one
 * progress line each. Loaded lazily by the task actions only.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  getAddress,
  isAddress,
  isHexString,
  parseUnits,
  toBeHex,
  Wallet,
  ZeroAddress,
  zeroPadValue,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";

import {
  addressBookPath,
  DEPLOYMENT_TOKENS,
  DeploymentError,
  deployHint,
  readDeployment,
  symbolOf,
  tokenBySymbol,
  type BallastDeployment,
} from "../../lib/deployments";
import {
  BallastForwarder__factory,
  BallastVault__factory,
  IERC20Metadata__factory,
  IUniswapV3Factory__factory,
  IUniswapV3Pool__factory,
  PriceGuard__factory,
  VaultFactory__factory,
  type BallastForwarder,
  type BallastVault,
  type PriceGuard,
  type VaultFactory,
} from "../../typechain-types";
import { encodePath } from "../../lib/protocol/path";
import { explain, TaskError } from "./errors";
import * as fmt from "./format";

const UINT64_MAX = (1n << 64n) - 1n;

/** Progress lines go to stdout, or to stderr while a task prints its result (JSON) on stdout. */
let progressToStderr = false;

export function setProgressToStderr(value: boolean): void {
  progressToStderr = value;
}

export function log(message: string): void {
  if (progressToStderr) console.error(message);
  else console.log(message);
}

export interface TaskContext {
  hre: HardhatRuntimeEnvironment;
  book: BallastDeployment;
  /** The address book's file, for messages. */
  bookFile: string;
  chainId: bigint;
  factory: VaultFactory;
  forwarder: BallastForwarder;
  priceGuard: PriceGuard;
}

/** Reads the address book of the current network and checks that it matches the chain and still has code. */
export async function loadContext(hre: HardhatRuntimeEnvironment, deployments?: string): Promise<TaskContext> {
  const network = hre.network.name;
  const bookFile = addressBookPath(network, hre.config.paths.root, deployments);
  let book: BallastDeployment;
  try {
    book = readDeployment(network, deployments, hre.config.paths.root);
  } catch (e) {
    if (e instanceof DeploymentError) throw new TaskError(e.message);
    throw e;
  }
  const provider = hre.ethers.provider;
  const chainId = (await provider.getNetwork()).chainId;
  const redeploy = `${deployHint(network)} (or pass the right --deployments)`;
  if (BigInt(book.chainId) !== chainId) {
    throw new TaskError(
      `${bookFile} is for chain ${book.chainId} (${book.network}) but network ${network} is chain ${chainId}: ${redeploy}`,
    );
  }
  if ((await provider.getCode(book.contracts.factory)) === "0x") {
    throw new TaskError(
      `No contract at the factory address ${book.contracts.factory} on ${network}: the chain was reset since ` +
        `${bookFile} was written; ${redeploy}`,
    );
  }
  return {
    hre,
    book,
    bookFile,
    chainId,
    factory: VaultFactory__factory.connect(book.contracts.factory, provider),
    forwarder: BallastForwarder__factory.connect(book.contracts.forwarder, provider),
    priceGuard: PriceGuard__factory.connect(book.contracts.priceGuard, provider),
  };
}

export interface SignerFlags {
  /** Flag names for messages, e.g. ["--key", "--account"] or ["--owner-key", "--owner-account"]. */
  names: readonly [string, string];
  /** Used when neither flag is given; without it, one of them is required. */
  fallbackAccount?: number;
}

/** A signer from a private key or a Hardhat account index: exactly one of the two. */
export async function resolveSigner(
  hre: HardhatRuntimeEnvironment,
  key: string | undefined,
  account: number | undefined,
  flags: SignerFlags,
): Promise<Signer> {
  const [keyFlag, accountFlag] = flags.names;
  if (key !== undefined && account !== undefined) {
    throw new TaskError(`Pass either ${keyFlag} or ${accountFlag}, not both`);
  }
  if (key !== undefined) {
    const hex = key.startsWith("0x") ? key : `0x${key}`;
    if (!isHexString(hex, 32)) {
      throw new TaskError(`${keyFlag} must be a 32-byte hex private key (64 hex digits, 0x optional)`);
    }
    return new Wallet(hex, hre.ethers.provider);
  }
  const index = account ?? flags.fallbackAccount;
  if (index === undefined) {
    throw new TaskError(`Pass the signer: ${keyFlag} <hex private key> or ${accountFlag} <index of a Hardhat account>`);
  }
  const signers = await hre.ethers.getSigners();
  if (!Number.isInteger(index) || index < 0 || index >= signers.length) {
    throw new TaskError(
      `${accountFlag} ${index}: network ${hre.network.name} has ${signers.length} accounts (0-${signers.length - 1})`,
    );
  }
  return signers[index];
}

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
}

/** A token given as a symbol of the address book (case-insensitive) or as an address. */
export function tokenAddress(ctx: TaskContext, value: string, flag: string): string {
  if (isAddress(value)) return getAddress(value);
  const found = tokenBySymbol(ctx.book, value);
  if (found === undefined) {
    throw new TaskError(
      `Unknown token "${value}" for ${flag}: use one of ${DEPLOYMENT_TOKENS.join(", ")} (from ${ctx.bookFile}) or an address`,
    );
  }
  return found;
}

export async function tokenInfo(ctx: TaskContext, address: string): Promise<TokenInfo> {
  const erc20 = IERC20Metadata__factory.connect(address, ctx.hre.ethers.provider);
  const decimals = Number(await erc20.decimals());
  let symbol: string = symbolOf(ctx.book, address) ?? "";
  if (symbol === "") {
    try {
      symbol = await erc20.symbol();
    } catch {
      symbol = address;
    }
  }
  return { address: getAddress(address), symbol, decimals };
}

/** A decimal health factor ("1.3") as a WAD that fits the vault's uint64. */
export function parseHf(value: string, flag: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value.trim())) {
    throw new TaskError(`${flag} must be a decimal health factor like 1.3, got "${value}"`);
  }
  const wad = parseUnits(value.trim(), 18);
  if (wad === 0n || wad > UINT64_MAX) throw new TaskError(`${flag} ${value} is out of range`);
  return wad;
}

/** A decimal amount in whole token units ("10.5"); "max" gives `type(uint256).max` where `allowMax`. */
export function parseAmount(value: string, info: TokenInfo, flag: string, allowMax = false): bigint {
  const v = value.trim();
  if (allowMax && v.toLowerCase() === "max") return 2n ** 256n - 1n;
  const pattern = info.decimals > 0 ? new RegExp(`^\\d+(\\.\\d{1,${info.decimals}})?$`) : /^\d+$/;
  if (!pattern.test(v)) {
    throw new TaskError(
      `${flag} must be an amount of ${info.symbol} with at most ${info.decimals} decimals, like 1.5, got "${value}"`,
    );
  }
  return parseUnits(v, info.decimals);
}

export function parseBps(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 10_000) {
    throw new TaskError(`${flag} must be a whole number of basis points between 0 and 10000, got ${value}`);
  }
  return value;
}

export function parseUint(value: string, flag: string): bigint {
  const v = value.trim();
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(v)) throw new TaskError(`${flag} must be a non-negative integer, got "${value}"`);
  const n = BigInt(v);
  if (n >= 2n ** 256n) throw new TaskError(`${flag} does not fit in 256 bits`);
  return n;
}

export function parseAddress(value: string, flag: string): string {
  if (!isAddress(value)) throw new TaskError(`${flag} must be an address, got "${value}"`);
  return getAddress(value);
}

/** `--salt`: a number (0, 1, …) or 32 bytes of hex. */
export function parseSalt(value: string): string {
  const v = value.trim();
  if (isHexString(v, 32)) return v.toLowerCase();
  if (/^\d+$/.test(v)) return zeroPadValue(toBeHex(BigInt(v)), 32);
  throw new TaskError(`--salt must be a number or 32 bytes of hex, got "${value}"`);
}

/** The latest block's timestamp: what deadlines are measured against. */
export async function chainTime(hre: HardhatRuntimeEnvironment): Promise<bigint> {
  const block = await hre.ethers.provider.getBlock("latest");
  if (block === null) throw new TaskError("Cannot read the latest block");
  return BigInt(block.timestamp);
}

/**
 * A single-hop Uniswap V3 path `tokenIn -> tokenOut`: `--path` as given, or built for `--fee-tier`, or for the fee
 * of the price guard's reference pool of the pair. The pool must exist.
 */
export async function swapPath(
  ctx: TaskContext,
  tokenIn: TokenInfo,
  tokenOut: TokenInfo,
  options: { path?: string; feeTier?: number },
): Promise<{ path: string; label: string }> {
  if (options.path !== undefined) {
    if (options.feeTier !== undefined) throw new TaskError("Pass either --path or --fee-tier, not both");
    if (!isHexString(options.path) || (options.path.length - 2) % 2 !== 0) {
      throw new TaskError(`--path must be a hex Uniswap V3 path (token, fee, token, ...), got "${options.path}"`);
    }
    return { path: options.path, label: "custom path" };
  }
  const provider = ctx.hre.ethers.provider;
  let fee = options.feeTier;
  if (fee === undefined) {
    const reference = await ctx.priceGuard.referencePool(tokenIn.address, tokenOut.address);
    if (reference === ZeroAddress) {
      throw new TaskError(`No reference pool for ${tokenIn.symbol}/${tokenOut.symbol}: pass --fee-tier or --path`);
    }
    fee = Number(await IUniswapV3Pool__factory.connect(reference, provider).fee());
  }
  const uniswap = IUniswapV3Factory__factory.connect(await ctx.priceGuard.UNISWAP_FACTORY(), provider);
  if ((await uniswap.getPool(tokenIn.address, tokenOut.address, fee)) === ZeroAddress) {
    throw new TaskError(
      `No Uniswap V3 pool ${tokenIn.symbol}/${tokenOut.symbol} with fee tier ${fee}: pass another --fee-tier`,
    );
  }
  return {
    path: encodePath([tokenIn.address, tokenOut.address], [fee]),
    label: `${tokenIn.symbol} -> ${tokenOut.symbol} (${fee / 10_000}% pool)`,
  };
}

/**
 * The path a collateral switch sells along, `--path` if given, else from the old collateral to the debt asset and on
 * to the new one, each hop through its pair's reference pool (the pools governance surely allows for both pairs).
 */
export async function switchPath(
  ctx: TaskContext,
  from: TokenInfo,
  debt: TokenInfo,
  to: TokenInfo,
  options: { path?: string; feeTier?: number },
): Promise<{ path: string; label: string }> {
  if (options.feeTier !== undefined) {
    throw new TaskError("A switch sells through two pools: pass --path for another route than the reference pools'");
  }
  if (options.path !== undefined) return swapPath(ctx, from, to, options);
  const fees: number[] = [];
  for (const token of [from, to]) {
    const reference = await ctx.priceGuard.referencePool(token.address, debt.address);
    if (reference === ZeroAddress) {
      throw new TaskError(`No reference pool for ${token.symbol}/${debt.symbol}: is that pair allowed? Pass --path`);
    }
    fees.push(Number(await IUniswapV3Pool__factory.connect(reference, ctx.hre.ethers.provider).fee()));
  }
  return {
    path: encodePath([from.address, debt.address, to.address], fees),
    label: `${from.symbol} -> ${debt.symbol} (${fees[0] / 10_000}% pool) -> ${to.symbol} (${fees[1] / 10_000}% pool)`,
  };
}

/** A vault of the book's factory. */
export async function vaultAt(ctx: TaskContext, address: string, flag = "--vault"): Promise<BallastVault> {
  const vault = parseAddress(address, flag);
  if (!(await ctx.factory.isVault(vault))) {
    const code = await ctx.hre.ethers.provider.getCode(vault);
    throw new TaskError(
      code === "0x"
        ? `No vault at ${vault}: create one with \`npx hardhat vault:open\``
        : `${vault} is not a vault of the factory ${ctx.book.contracts.factory}: check ${flag}`,
    );
  }
  return BallastVault__factory.connect(vault, ctx.hre.ethers.provider);
}

/** Sends a transaction (its gas estimate already surfaces a revert), waits for it and prints one line. */
export async function send(
  label: string,
  submit: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  let receipt: ContractTransactionReceipt | null;
  try {
    const tx = await submit();
    receipt = await tx.wait();
  } catch (e) {
    throw explain(label, e);
  }
  if (receipt === null || receipt.status !== 1) throw new TaskError(`${label}: transaction failed`);
  log(`  ✓ ${label}: tx ${receipt.hash} (gas ${fmt.gas(receipt.gasUsed)})`);
  return receipt;
}

/**
 * Estimates the gas of a call made directly by `from`, with a margin: what a signed forward request must carry (the
 * target sees the same sender either way). A call that would revert fails here, with the reason and `hint`.
 */
export async function estimateCallGas(
  ctx: TaskContext,
  from: string,
  to: string,
  data: string,
  action: string,
  hint = "",
): Promise<bigint> {
  try {
    const estimate = await ctx.hre.ethers.provider.estimateGas({ from, to, data });
    return (estimate * 13n) / 10n + 20_000n;
  } catch (e) {
    const error = explain(`${action}, simulated as ${from},`, e);
    throw hint === "" ? error : new TaskError(`${error.message}. ${hint}`);
  }
}
