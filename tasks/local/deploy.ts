/** `local:deploy`, `local:fund`, `local:refresh`: a throw-away Ballast deployment on hardhat or a `hardhat node`. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { liveAddressBook } from "../../lib/deploy";
import {
  addressBookPath,
  DEPLOYMENT_TOKENS,
  writeDeployment,
  type BallastDeployment,
  type DeploymentToken,
} from "../../lib/deployments";
import { deployMarket, type Market } from "../../lib/market";
import { deployProtocol, type Protocol } from "../../lib/protocol";
import {
  IAaveOracle__factory,
  MintableERC20__factory,
  MockAggregatorV3__factory,
  WETH9__factory,
} from "../../typechain-types";
import {
  loadContext,
  log,
  parseAddress,
  parseAmount,
  resolveSigner,
  send,
  tokenAddress,
  tokenInfo,
} from "../shared/context";
import { TaskError } from "../shared/errors";
import * as fmt from "../shared/format";

export const LOCAL_NETWORKS: readonly string[] = ["hardhat", "localhost"];

/** The local tasks deploy mocks and use impersonation and free minting: never on a real network. */
export function assertLocalNetwork(network: string, taskName: string): void {
  if (!LOCAL_NETWORKS.includes(network)) {
    throw new TaskError(
      `${taskName} deploys a throw-away market with mock price feeds and impersonated accounts; it runs on hardhat ` +
        `or localhost only, not on "${network}". Start a node with \`npx hardhat node\` and pass --network localhost.`,
    );
  }
}

/** The address book of a local market and the protocol deployed on it. */
export async function buildDeployment(
  network: string,
  chainId: bigint,
  market: Market,
  protocol: Protocol,
): Promise<BallastDeployment> {
  const tokens = {} as Record<DeploymentToken, string>;
  for (const symbol of DEPLOYMENT_TOKENS) tokens[symbol] = await market.tokens.erc20[symbol].getAddress();
  return {
    network,
    chainId: Number(chainId),
    contracts: {
      factory: await protocol.factory.getAddress(),
      forwarder: await protocol.forwarder.getAddress(),
      priceGuard: await protocol.priceGuard.getAddress(),
      executor: await protocol.executor.getAddress(),
      pool: await market.aave.pool.getAddress(),
      router: await market.uniswap.router.getAddress(),
      quoter: await market.uniswap.quoter.getAddress(),
      lens: await protocol.lens.getAddress(),
      auction: await protocol.auction.getAddress(),
      tokens,
    },
  };
}

export interface LocalDeployResult {
  deployment: BallastDeployment;
  file: string;
  market: Market;
  protocol: Protocol;
}

/** `local:deploy`: the local market, then Ballast on it (governance = account 0, guardian = account 1). */
export async function localDeploy(
  hre: HardhatRuntimeEnvironment,
  args: { deployments?: string },
): Promise<LocalDeployResult> {
  assertLocalNetwork(hre.network.name, "local:deploy");
  // Never replace a book whose contracts are live: the vaults opened on it would vanish from every task.
  const bookFile = addressBookPath(hre.network.name, hre.config.paths.root, args.deployments);
  const live = await liveAddressBook(hre, hre.network.name, bookFile);
  if (live !== undefined) {
    throw new TaskError(
      `${bookFile} already names a live Ballast deployment on ${hre.network.name} (factory ${live.contracts.factory}): ` +
        `the tasks use it, so skip local:deploy; to start another, delete the file or pass --deployments <new file>`,
    );
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)}s`;
  log(`Deploying the local market and Ballast on ${hre.network.name}`);
  const market = await deployMarket(hre, (step) => log(`  [${elapsed()}] market: ${step}`));
  const [governance, guardian] = await hre.ethers.getSigners();
  log(`  [${elapsed()}] protocol: governance ${governance.address}, guardian ${guardian.address}`);
  const protocol = await deployProtocol(market, governance, guardian);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const deployment = await buildDeployment(hre.network.name, chainId, market, protocol);
  const file = writeDeployment(deployment, args.deployments, hre.config.paths.root);
  const { tokens, ...contracts } = deployment.contracts;
  console.table({ ...contracts, ...Object.fromEntries(Object.entries(tokens).map(([s, a]) => [`token ${s}`, a])) });
  log(`Deployed on ${hre.network.name} (chain ${chainId}) in ${elapsed()}; address book written to ${file}`);
  if (hre.network.name === "hardhat") {
    log("  note: the in-process hardhat network ends with this command; use --network localhost to keep it");
  }
  return { deployment, file, market, protocol };
}

export interface FundArgs {
  token: string;
  amount: string;
  to?: string;
  account?: number;
  fromAccount?: number;
  deployments?: string;
}

/** `local:fund`: WETH wrapped from a Hardhat account's ETH, the other tokens minted (Aave's test tokens). */
export async function localFund(hre: HardhatRuntimeEnvironment, args: FundArgs): Promise<void> {
  assertLocalNetwork(hre.network.name, "local:fund");
  const ctx = await loadContext(hre, args.deployments);
  if ((args.to === undefined) === (args.account === undefined)) {
    throw new TaskError("Pass the recipient: either --to <address> or --account <index>");
  }
  const to =
    args.to !== undefined
      ? parseAddress(args.to, "--to")
      : await (await resolveSigner(hre, undefined, args.account, { names: ["--key", "--account"] })).getAddress();
  const funder = await resolveSigner(hre, undefined, args.fromAccount ?? 0, { names: ["--key", "--from-account"] });
  const token = await tokenInfo(ctx, tokenAddress(ctx, args.token, "--token"));
  const amount = parseAmount(args.amount, token, "--amount");
  log(`Funding ${to} with ${fmt.token(amount, token.decimals, token.symbol)}`);
  if (token.address === ctx.book.contracts.tokens.WETH) {
    const weth = WETH9__factory.connect(token.address, funder);
    await send("WETH.deposit", () => weth.deposit({ value: amount }));
    await send("WETH.transfer", () => weth.transfer(to, amount));
  } else {
    const mintable = MintableERC20__factory.connect(token.address, funder);
    await send(`${token.symbol}.mint`, () => mintable["mint(address,uint256)"](to, amount));
  }
}

/** `local:refresh`: re-posts every local price feed's answer, so the price guard's staleness check passes again. */
export async function localRefresh(hre: HardhatRuntimeEnvironment, args: { deployments?: string }): Promise<void> {
  assertLocalNetwork(hre.network.name, "local:refresh");
  const ctx = await loadContext(hre, args.deployments);
  const [signer] = await hre.ethers.getSigners();
  const oracle = IAaveOracle__factory.connect(await ctx.priceGuard.ORACLE(), hre.ethers.provider);
  for (const symbol of DEPLOYMENT_TOKENS) {
    const feed = MockAggregatorV3__factory.connect(
      await oracle.getSourceOfAsset(ctx.book.contracts.tokens[symbol]),
      signer,
    );
    const answer = await feed.latestAnswer();
    await send(`${symbol} feed at ${fmt.fixed(answer, 8, 2, true)} USD`, () => feed.setAnswer(answer));
  }
}
