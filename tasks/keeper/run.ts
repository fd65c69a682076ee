/**
 * `keeper:run`: checks the flags, finds the contracts (address book, or `--factory` / `--lens` / `--quoter`), builds
 * the bot and runs one pass (`--once`) or passes every `--interval` seconds until SIGINT or SIGTERM.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, isAddress, parseUnits, type Provider } from "ethers";

import {
  DeploymentError,
  addressBookPath,
  adviceNetwork,
  readDeployment,
  tokenBySymbol,
  type BallastDeployment,
} from "../../lib/deployments";
import {
  BallastVault__factory,
  IAaveOracle__factory,
  IPool__factory,
  IPoolAddressesProvider__factory,
  IPriceGuard__factory,
  IUniswapV3Factory__factory,
  IVaultLens__factory,
  KeeperAuction__factory,
  QuoterV2__factory,
  VaultFactory__factory,
} from "../../typechain-types";
import { parseAddress } from "../shared/context";
import { explain, TaskError } from "../shared/errors";
import { KeeperBot } from "./bot";
import { runLoop, type LoopResult } from "./loop";
import type { PassSummary } from "./types";
import { resolveKeeperArgs, type ResolvedKeeperArgs } from "./config";
import { keeperSigner, processKeyOptions, type KeyOptions } from "./keys";
import { parsePrivateRpc, privateTransport, redactUrl } from "./private";
import { KeeperLog, LOG_FORMATS, type KeeperLogOptions, type LogFormat } from "./log";
import { VaultWatch } from "./watch";
import { maxSweepSeconds } from "../../lib/keeper/triggers";
import { staleAfterMs } from "./health";
import { KeeperMetrics } from "./metrics";
import { startOpsServer, type OpsServer } from "./ops";
import { MAX_REPLACEMENTS } from "./tx";
import { Valuer } from "./value";

/**
 * The task's flags (a type alias, so that it also passes as `hre.run`'s argument record). Unset ones come from the
 * environment, `--keeper-config` or `KEEPER_DEFAULTS` (`resolveKeeperArgs`).
 */
export type KeeperArgs = {
  /** A JSON file of options; see config.ts. */
  keeperConfig?: string;
  account?: number;
  /** Refused: see `KEY_FLAG_REFUSED`. */
  key?: string;
  keystore?: string;
  recipient?: string;
  deployments?: string;
  factory?: string;
  lens?: string;
  quoter?: string;
  fromBlock?: number;
  blockRange?: number;
  pageSize?: number;
  interval?: number;
  once?: boolean;
  minProfit?: string;
  maxFee?: string;
  /** The old name of `maxFee`. */
  maxGasPrice?: string;
  priorityFee?: string;
  maxSpendPerPass?: string;
  /** Seconds; default `DEFAULT_TX_TIMEOUT`. */
  txTimeout?: number;
  batchSize?: number;
  noCancel?: boolean;
  via?: string;
  logFormat?: string;
  logDebug?: boolean;
  /** Sends every transaction raw to this endpoint instead of the public mempool. */
  privateRpc?: string;
  /** Reads every vault every pass instead of those the trigger-price index picks. */
  noIndex?: boolean;
  /** Chain seconds between full reads that rebuild the index. */
  sweepInterval?: number;
  /** `TriggerIndexOptions.marginBps`. */
  triggerMargin?: number;
  /** Serves `/metrics` and `/healthz` on this port (0: any free one); not with `once`. */
  metricsPort?: number;
  /** The address the metrics server binds to; default 127.0.0.1. */
  metricsHost?: string;
};

export interface KeeperSetup {
  bot: KeeperBot;
  log: KeeperLog;
  /** Token symbols and decimals for the metrics (the bot keeps its own). */
  tokens: Valuer;
  /** Where transactions go: `public`, or `private <url>` (credentials hidden). */
  send: string;
  /** How the bot picks the vaults it reads. */
  index: string;
  keeper: string;
  recipient: string;
  factory: string;
  lens: string;
  auction: string;
  quoter: string;
}

function positiveInt(value: number, flag: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TaskError(`${flag} must be a whole number of at least ${min}, got ${value}`);
  }
  return value;
}

/** The simple APR whose interest the index's margin covers between two sweeps, in percent, rounded down. */
function coveredAprPct(marginBps: number, sweepSeconds: number): number {
  // maxSweepSeconds is linear in 1/APR: the APR at which it equals the sweep interval.
  return Math.floor((maxSweepSeconds(marginBps, 10_000) / sweepSeconds) * 100);
}

/** `--tx-timeout` when not given: about five to eight mainnet blocks. */
export const DEFAULT_TX_TIMEOUT = 90;

/** The fee flags in wei, after `checkFlags`. */
interface FeeFlags {
  maxFee?: bigint;
  priorityFee?: bigint;
  maxSpendPerPass?: bigint;
  txTimeoutMs: number;
}

function decimal(value: string, flag: string, example: string): string {
  const v = value.trim();
  if (!/^\d+(\.\d+)?$/.test(v)) throw new TaskError(`${flag} must be a decimal number like ${example}, got "${value}"`);
  return v;
}

/** A decimal amount in units of 10^-decimals (gwei: 9, ETH: 18), at most that many decimals. */
function units(value: string, flag: string, example: string, decimals: number): bigint {
  const v = decimal(value, flag, example);
  if ((v.split(".")[1] ?? "").length > decimals) {
    throw new TaskError(`${flag} takes at most ${decimals} decimals, got "${value}"`);
  }
  return parseUnits(v, decimals);
}

/** `--max-fee` (or its old name `--max-gas-price`), `--priority-fee`, `--max-spend-per-pass`, `--tx-timeout`. */
function feeFlags(args: ResolvedKeeperArgs): FeeFlags {
  if (args.maxFee !== undefined && args.maxGasPrice !== undefined) {
    throw new TaskError("Pass either --max-fee or --max-gas-price (its old name), not both");
  }
  const maxFeeArg = args.maxFee ?? args.maxGasPrice;
  const maxFeeFlag = args.maxFee !== undefined ? "--max-fee" : "--max-gas-price";
  const maxFee = maxFeeArg !== undefined ? units(maxFeeArg, maxFeeFlag, "30 (gwei)", 9) : undefined;
  const priorityFee =
    args.priorityFee !== undefined ? units(args.priorityFee, "--priority-fee", "1.5 (gwei)", 9) : undefined;
  if (maxFee !== undefined && priorityFee !== undefined && priorityFee > maxFee) {
    throw new TaskError(`--priority-fee ${args.priorityFee} gwei is above ${maxFeeFlag} ${maxFeeArg} gwei: lower it`);
  }
  const maxSpendPerPass =
    args.maxSpendPerPass !== undefined
      ? units(args.maxSpendPerPass, "--max-spend-per-pass", "0.05 (ETH)", 18)
      : undefined;
  const timeout = args.txTimeout ?? DEFAULT_TX_TIMEOUT;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new TaskError(`--tx-timeout must be a number of seconds above 0, got ${timeout}`);
  }
  return { maxFee, priorityFee, maxSpendPerPass, txTimeoutMs: Math.round(timeout * 1000) };
}

/** Flags that need no chain: checked before anything is read. */
function checkFlags(args: ResolvedKeeperArgs): LogFormat {
  if (args.fromBlock !== undefined) positiveInt(args.fromBlock, "--from-block", 0);
  positiveInt(args.blockRange, "--block-range");
  positiveInt(args.pageSize, "--page-size");
  positiveInt(args.batchSize, "--batch-size");
  if (!Number.isFinite(args.interval) || args.interval <= 0) {
    throw new TaskError(`--interval must be a number of seconds above 0, got ${args.interval}`);
  }
  decimal(args.minProfit, "--min-profit", "0.5 (USD)");
  if (!Number.isFinite(args.sweepInterval) || args.sweepInterval <= 0) {
    throw new TaskError(`--sweep-interval must be a number of seconds above 0, got ${args.sweepInterval}`);
  }
  if (!Number.isInteger(args.triggerMargin) || args.triggerMargin < 0 || args.triggerMargin >= 10_000) {
    throw new TaskError(`--trigger-margin must be a whole number of bps from 0 to 9999, got ${args.triggerMargin}`);
  }
  if (args.metricsPort !== undefined && positiveInt(args.metricsPort, "--metrics-port", 0) > 65_535) {
    throw new TaskError(`--metrics-port must be at most 65535, got ${args.metricsPort}`);
  }
  const format = LOG_FORMATS.find((f) => f === args.logFormat);
  if (format === undefined) {
    throw new TaskError(`--log-format must be one of ${LOG_FORMATS.join(", ")}, got "${args.logFormat}"`);
  }
  return format;
}

async function requireCode(provider: Provider, address: string, what: string, remedy: string): Promise<void> {
  if ((await provider.getCode(address)) === "0x")
    throw new TaskError(`No contract at the ${what} address ${address}: ${remedy}`);
}

/** The bot as the task builds it; tests pass `logOptions` to capture the log. */
export async function setupKeeper(
  hre: HardhatRuntimeEnvironment,
  input: KeeperArgs,
  logOptions: Omit<KeeperLogOptions, "format" | "verbose"> = {},
  keyOptions: KeyOptions = processKeyOptions(),
): Promise<KeeperSetup> {
  const args = resolveKeeperArgs(input);
  const format = checkFlags(args);
  const fees = feeFlags(args);
  const privateRpc = args.privateRpc !== undefined ? parsePrivateRpc(args.privateRpc) : undefined;
  // The key is checked before the chain is read: a refused --key or a missing key fails at once.
  const signer = await keeperSigner(
    hre,
    { key: args.key, keystore: args.keystore, account: args.account },
    keyOptions,
    privateRpc !== undefined,
  );
  const log = new KeeperLog({ ...logOptions, format, verbose: args.logDebug });
  const provider = hre.ethers.provider;
  const network = hre.network.name;
  // On the in-process network a deployment is gone when the command ends: the advice names the node.
  const advised = adviceNetwork(network);
  const redeploy = `run \`npx hardhat local:deploy --network ${advised}\` again (or pass the right --deployments)`;
  const bookFile = addressBookPath(network, hre.config.paths.root, args.deployments);

  let book: BallastDeployment | undefined;
  try {
    book = readDeployment(network, args.deployments, hre.config.paths.root);
  } catch (e) {
    if (!(e instanceof DeploymentError)) throw e;
    const overridden = args.factory !== undefined && args.lens !== undefined && args.quoter !== undefined;
    if (!overridden || args.deployments !== undefined) {
      throw new TaskError(`${e.message}; or give the keeper --factory, --lens and --quoter`);
    }
  }
  const chainId = (await provider.getNetwork()).chainId;
  if (book !== undefined && BigInt(book.chainId) !== chainId) {
    throw new TaskError(
      `${bookFile} is for chain ${book.chainId} (${book.network}) but network ${network} is chain ${chainId}: ${redeploy}`,
    );
  }

  const factoryAddress =
    args.factory !== undefined
      ? parseAddress(args.factory, "--factory")
      : (book as BallastDeployment).contracts.factory;
  await requireCode(
    provider,
    factoryAddress,
    "factory",
    args.factory !== undefined ? "check --factory" : `the chain was reset since ${bookFile} was written; ${redeploy}`,
  );
  const lensAddress = args.lens !== undefined ? parseAddress(args.lens, "--lens") : book?.contracts.lens;
  if (lensAddress === undefined) {
    throw new TaskError(
      `${bookFile} records no VaultLens (it was written before local:deploy deployed one): run ` +
        `\`npx hardhat local:deploy --network ${advised}\` again, or deploy contracts/lens/VaultLens.sol and pass --lens <address>`,
    );
  }
  await requireCode(provider, lensAddress, "lens", args.lens !== undefined ? "check --lens" : redeploy);
  const quoterAddress =
    args.quoter !== undefined ? parseAddress(args.quoter, "--quoter") : (book as BallastDeployment).contracts.quoter;
  await requireCode(provider, quoterAddress, "QuoterV2", args.quoter !== undefined ? "check --quoter" : redeploy);

  const factory = VaultFactory__factory.connect(factoryAddress, provider);
  let auctionAddress: string;
  let priceGuardAddress: string;
  try {
    [auctionAddress, priceGuardAddress] = await Promise.all([factory.AUCTION(), factory.PRICE_GUARD()]);
  } catch (e) {
    throw explain(
      `Reading AUCTION() and PRICE_GUARD() of ${factoryAddress} (is it a Ballast VaultFactory? check --factory)`,
      e,
    );
  }
  const lens = IVaultLens__factory.connect(lensAddress, provider);
  try {
    // An empty page: a wrong address (the factory's, a token's) fails here, at start-up, not at the first scan.
    await lens.scan(factoryAddress, 0, 0);
  } catch {
    throw new TaskError(
      `${lensAddress} does not answer VaultLens.scan: it is not a VaultLens; ` +
        (args.lens !== undefined ? "check --lens" : `the address book ${bookFile} is wrong: ${redeploy}`),
    );
  }
  if (book?.contracts.auction !== undefined && book.contracts.auction !== getAddress(auctionAddress)) {
    log.warn("book-mismatch", {
      book: book.contracts.auction,
      factoryAuction: auctionAddress,
      reason: `${bookFile} names another auction than the factory's AUCTION(); using the factory's`,
    });
  }
  const quoter = QuoterV2__factory.connect(quoterAddress, provider);
  const priceGuard = IPriceGuard__factory.connect(priceGuardAddress, provider);
  const [oracleAddress, uniswapFactoryAddress, weth] = await Promise.all([
    priceGuard.ORACLE(),
    quoter.factory(),
    quoter.WETH9(),
  ]);
  const oracle = IAaveOracle__factory.connect(oracleAddress, provider);
  const baseDecimals = (await oracle.BASE_CURRENCY_UNIT()).toString().length - 1;

  const intermediates: string[] = [];
  if (args.via !== undefined) {
    for (const item of args.via
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "")) {
      const token = isAddress(item) ? getAddress(item) : book !== undefined ? tokenBySymbol(book, item) : undefined;
      if (token === undefined) {
        throw new TaskError(`--via "${item}" is neither an address nor a token symbol of ${bookFile}`);
      }
      intermediates.push(token);
    }
  } else {
    intermediates.push(getAddress(weth));
    if (book !== undefined) intermediates.push(book.contracts.tokens.USDC);
  }

  const keeper = getAddress(await signer.getAddress());
  const recipient = args.recipient !== undefined ? parseAddress(args.recipient, "--recipient") : keeper;
  const symbols = new Map<string, string>(
    book !== undefined ? Object.entries(book.contracts.tokens).map(([symbol, address]) => [address, symbol]) : [],
  );

  let watch: VaultWatch | undefined;
  if (!args.noIndex) {
    const pool = await BallastVault__factory.connect(await factory.VAULT_IMPLEMENTATION(), provider).POOL();
    const addresses = await IPool__factory.connect(pool, provider).ADDRESSES_PROVIDER();
    watch = new VaultWatch({
      provider,
      factory,
      oracle,
      pool,
      configurator: await IPoolAddressesProvider__factory.connect(addresses, provider).getPoolConfigurator(),
      sweepSeconds: args.sweepInterval,
      marginBps: args.triggerMargin,
    });
  }
  const bot = new KeeperBot({
    provider,
    signer,
    log,
    watch,
    transport: privateRpc !== undefined ? privateTransport(privateRpc) : undefined,
    contracts: {
      factory,
      lens,
      auction: KeeperAuction__factory.connect(auctionAddress, provider),
      quoter,
      uniswapFactory: IUniswapV3Factory__factory.connect(uniswapFactoryAddress, provider),
      oracle,
      priceGuard,
    },
    settings: {
      fromBlock: args.fromBlock,
      blockRange: args.blockRange,
      pageSize: args.pageSize,
      minProfitBase: parseUnits(args.minProfit.trim(), baseDecimals),
      maxFee: fees.maxFee,
      priorityFee: fees.priorityFee,
      maxSpendPerPass: fees.maxSpendPerPass,
      txTimeoutMs: fees.txTimeoutMs,
      batchSize: args.batchSize,
      cancel: !args.noCancel,
      recipient,
      intermediates,
      wrappedNative: getAddress(weth),
      symbols,
    },
  });
  return {
    bot,
    log,
    tokens: new Valuer(oracle, provider, getAddress(weth), symbols),
    send: privateRpc !== undefined ? `private ${redactUrl(privateRpc)}` : "public",
    index: args.noIndex
      ? "off: every vault every pass"
      : `margin ${args.triggerMargin} bps, sweep every ${args.sweepInterval} s (covers interest up to ${coveredAprPct(args.triggerMargin, args.sweepInterval)}% APR)`,
    keeper,
    recipient,
    factory: factoryAddress,
    lens: lensAddress,
    auction: getAddress(auctionAddress),
    quoter: quoterAddress,
  };
}

/** The metrics and their server, as `keeper:run --metrics-port` starts them before its loop. */
export async function startKeeperMetrics(
  hre: HardhatRuntimeEnvironment,
  setup: KeeperSetup,
  args: ResolvedKeeperArgs & { metricsPort: number },
): Promise<{ metrics: KeeperMetrics; server: OpsServer }> {
  const metrics = new KeeperMetrics({
    provider: hre.ethers.provider,
    tokens: setup.tokens,
    log: setup.log,
    processMetrics: true,
    staleAfterMs: staleAfterMs(args.interval * 1000, (args.txTimeout ?? DEFAULT_TX_TIMEOUT) * 1000, MAX_REPLACEMENTS),
  });
  const server = await startOpsServer(metrics, args.metricsHost, args.metricsPort, setup.log);
  return { metrics, server };
}

/** `keeper:run`: one pass with `--once` (its summary), else the loop until SIGINT/SIGTERM (its totals). */
export async function keeperRun(
  input: KeeperArgs,
  hre: HardhatRuntimeEnvironment,
  logOptions: Omit<KeeperLogOptions, "format" | "verbose"> = {},
  keyOptions: KeyOptions = processKeyOptions(),
): Promise<PassSummary | LoopResult> {
  const args = resolveKeeperArgs(input);
  const setup = await setupKeeper(hre, args, logOptions, keyOptions);
  const { bot, log } = setup;
  log.info("start", {
    network: hre.network.name,
    keeper: setup.keeper,
    recipient: setup.recipient,
    factory: setup.factory,
    lens: setup.lens,
    auction: setup.auction,
    quoter: setup.quoter,
    send: setup.send,
    index: setup.index,
    mode: args.once ? "once" : `every ${args.interval}s`,
  });
  if (args.once) {
    if (args.metricsPort !== undefined) {
      // Nothing would scrape a server that lives for one pass; the pass's summary is its report.
      log.info("metrics-off", { reason: "--once runs a single pass: --metrics-port is for the loop" });
    }
    try {
      return await bot.pass();
    } catch (e) {
      throw explain("The keeper pass", e);
    }
  }
  const ops =
    args.metricsPort !== undefined
      ? await startKeeperMetrics(hre, setup, { ...args, metricsPort: args.metricsPort })
      : undefined;
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    log.info("stopping", { signal, reason: "finishing the current pass" });
    controller.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await runLoop(bot, {
      intervalMs: args.interval * 1000,
      signal: controller.signal,
      observer: ops?.metrics,
    });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await ops?.server.close();
  }
}
