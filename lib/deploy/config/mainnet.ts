import { LOCAL_PARAMS } from "./local";
import type { NetworkConfig } from "./types";

/**
 * The block the mainnet-fork suite pins (Feb 2024). The freshness feeds below make the price guard work with the
 * adapters Aave adopted later as well (CAPO for USDC, a composite for WBTC; BAL-04), but only this block was planned.
 */
export const MAINNET_FORK_BLOCK = 19_200_000;

/**
 * Ethereum mainnet (chain 1), and the hardhat network when it forks mainnet (BALLAST_FORK=1). Addresses from Aave's
 * and Uniswap's deployment docs (aave-address-book `AaveV3Ethereum`, docs.uniswap.org "Ethereum Deployments").
 */
export const MAINNET: NetworkConfig = {
  localMarket: false,
  external: {
    addressesProvider: "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e",
    router: "0xE592427A0AEce92De3Edee1F18E0157C05861564",
    quoter: "0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
  },
  assets: {
    // Chainlink ETH/USD updates at least hourly; BTC/USD too; USDC/USD daily. Each heartbeat has a margin.
    WETH: { address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", heartbeat: 3_900 },
    // Aave's WBTC source multiplies WBTC/BTC by BTC/USD and has no rounds: the guard checks BTC/USD, the feed that
    // moves; WBTC/BTC is trusted within its own 24 h heartbeat (spec §12).
    WBTC: {
      address: "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
      heartbeat: 3_900,
      freshnessFeed: "0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c",
    },
    // Aave's CAPO adapter for USDC has no rounds: the guard checks the Chainlink USDC/USD aggregator it caps.
    USDC: {
      address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
      heartbeat: 90_000,
      freshnessFeed: "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6",
    },
  },
  params: {
    // 30 minutes: a mainnet pool is costlier to push for a whole window than a local one.
    twapWindow: 1_800,
    maxTwapDeviationBps: 500,
    // Five blocks: a real crash shows within a minute; a pool held down for one block moves it by a fifth.
    deleverageTwapWindow: 60,
    bounds: LOCAL_PARAMS.bounds,
    auction: LOCAL_PARAMS.auction,
    // The gas units are the local measurements (the same bytecode on the same Aave and Uniswap code); WETH prices gas.
    auctionGas: { ...LOCAL_PARAMS.auctionGas, nativeAsset: "WETH" },
    pairs: [
      ["WETH", "USDC", 500],
      ["WBTC", "USDC", 3_000],
    ],
    // The deep public pools of the pairs: USDC/WETH 0.05% and 0.3%, WBTC/USDC 0.3%.
    routes: [
      ["WETH", "USDC", 500],
      ["WETH", "USDC", 3_000],
      ["WBTC", "USDC", 3_000],
    ],
  },
};
