import fs from "node:fs";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { ASSET_SYMBOLS, deployMarket, type Market } from "../../lib/market";

const LOCAL_NETWORKS = new Set(["hardhat", "localhost"]);

async function addressBook(market: Market): Promise<Record<string, string>> {
  const book: Record<string, string> = {};
  const add = async (name: string, contract: { getAddress(): Promise<string> }) => {
    book[name] = await contract.getAddress();
  };
  for (const symbol of ASSET_SYMBOLS) {
    await add(symbol, market.tokens.erc20[symbol]);
    await add(`${symbol} / USD feed`, market.feeds[symbol]);
  }
  await add("Aave PoolAddressesProvider", market.aave.addressesProvider);
  await add("Aave Pool", market.aave.pool);
  await add("Aave PoolConfigurator", market.aave.configurator);
  await add("Aave ACLManager", market.aave.aclManager);
  await add("AaveOracle", market.aave.oracle);
  await add("AaveProtocolDataProvider", market.aave.dataProvider);
  await add("Uniswap V3 Factory", market.uniswap.factory);
  await add("SwapRouter", market.uniswap.router);
  await add("QuoterV2", market.uniswap.quoter);
  await add("NonfungiblePositionManager", market.uniswap.positionManager);
  for (const info of Object.values(market.uniswap.pools)) await add(`Uniswap pool ${info.key}`, info.pool);
  return book;
}

export async function deployMarketWithReport(hre: HardhatRuntimeEnvironment, json?: string): Promise<Market> {
  if (!LOCAL_NETWORKS.has(hre.network.name)) {
    throw new Error(
      `market:deploy builds a throw-away market with mock price feeds and impersonated accounts; it only runs on ` +
        `hardhat or localhost, not on "${hre.network.name}". Start a node with \`npx hardhat node\` and pass --network localhost.`,
    );
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)}s`;
  const market = await deployMarket(hre, (step) => console.log(`  [${elapsed()}] ${step}`));
  console.log(`Local market deployed on ${hre.network.name} in ${elapsed()}`);
  const book = await addressBook(market);
  console.table(book);
  if (json !== undefined) {
    fs.mkdirSync(path.dirname(path.resolve(json)), { recursive: true });
    fs.writeFileSync(json, `${JSON.stringify({ network: hre.network.name, addresses: book }, null, 2)}\n`);
    console.log(`Addresses written to ${json}`);
  }
  return market;
}
