import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, TASK_TEST_GET_TEST_FILES } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/types";
import path from "node:path";
import "@nomicfoundation/hardhat-toolbox";
import "hardhat-deploy";

import { MAINNET_FORK_BLOCK } from "./lib/deploy/config/mainnet";
import { STAGED_ARTIFACTS_DIR, stageExternalArtifacts } from "./lib/market/artifacts";
import "./tasks";

const SOLC_VERSION = "0.8.28";

// No network access for compiler downloads: compile with the soljson.js of the npm `solc`
// package, which package.json pins to SOLC_VERSION.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }: { solcVersion: string }) => {
  const solc = require("solc") as { version(): string };
  const longVersion = solc.version().replace(/\.Emscripten\.clang$/, "");
  if (solcVersion !== SOLC_VERSION || !longVersion.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(
      `Compiler ${solcVersion} requested but the npm solc package is ${longVersion}. ` +
        `Pin "solc": "${solcVersion}" in package.json and run npm ci.`,
    );
  }
  return {
    version: solcVersion,
    longVersion,
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
  };
});

// Typechain also binds the Aave and Uniswap npm artifacts; stage them where ts-node will load the result.
subtask("typechain:generate-types", async (args, hre, runSuper) => {
  stageExternalArtifacts(hre.config.paths.root);
  return runSuper(args);
});

const { MAINNET_RPC_URL, DEPLOYER_PRIVATE_KEY, ETHERSCAN_API_KEY } = process.env;
const FORKING = process.env.BALLAST_FORK === "1";
if (FORKING && MAINNET_RPC_URL === undefined) {
  throw new Error("BALLAST_FORK=1 forks mainnet at a pinned block: set MAINNET_RPC_URL to an archive node's URL");
}

// The mainnet-fork suite needs an RPC: a plain `npx hardhat test` leaves test/fork out (`npm run test:fork` runs it).
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, hre, runSuper) => {
  const files = (await runSuper(args)) as string[];
  if (args.testFiles.length > 0 || FORKING) return files;
  const forkDir = path.join(hre.config.paths.tests, "fork") + path.sep;
  return files.filter((file) => !file.startsWith(forkDir));
});

const COMPILER_SETTINGS = { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" };

const config: HardhatUserConfig = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: COMPILER_SETTINGS }],
    // The vault must fit the 24,576-byte limit (EIP-170); at 10,000 runs it does not. The factory embeds the
    // vault's creation code, so it is compiled the same way. The vault's planner library needs the IR pipeline for
    // its stack, not the size setting; so does the vault's collateral-switch logic.
    overrides: {
      ...Object.fromEntries(
        ["contracts/vault/BallastVault.sol", "contracts/vault/VaultFactory.sol"].map((file) => [
          file,
          {
            version: SOLC_VERSION,
            settings: { ...COMPILER_SETTINGS, viaIR: true, optimizer: { enabled: true, runs: 200 } },
          },
        ]),
      ),
      // The executor's stepped path (R5) adds address masks to its code: past 30 of them, the legacy constant
      // optimizer at 10,000 runs trades each 3-gas PUSH20 mask for a 12-gas computed one, about 300 gas on every
      // rebalance. At 20,000 runs it keeps the PUSH20 up to 60 masks (the executor has 51).
      "contracts/rebalance/RebalanceExecutor.sol": {
        version: SOLC_VERSION,
        settings: { ...COMPILER_SETTINGS, optimizer: { enabled: true, runs: 20_000 } },
      },
      ...Object.fromEntries(
        ["contracts/libraries/VaultPlanner.sol", "contracts/vault/logic/CollateralLogic.sol"].map((file) => [
          file,
          { version: SOLC_VERSION, settings: { ...COMPILER_SETTINGS, viaIR: true } },
        ]),
      ),
    },
  },
  networks: {
    hardhat: {
      // The local market funds many accounts and deploys large Aave contracts.
      blockGasLimit: 60_000_000,
      initialBaseFeePerGas: 1_000_000_000,
      // Instrumented for coverage, the factory's creation (vault and auction included) outgrows Osaka's 2^24
      // per-transaction gas cap (EIP-7825); uninstrumented it fits, and every other run keeps the cap.
      ...(process.env.BALLAST_COVERAGE === "1" ? { hardfork: "prague" } : {}),
      ...(FORKING ? { forking: { url: MAINNET_RPC_URL as string, blockNumber: MAINNET_FORK_BLOCK }, chainId: 1 } : {}),
    },
    localhost: {
      url: "http://127.0.0.1:8545",
    },
    // Only when both are set, so that nothing else needs them.
    ...(MAINNET_RPC_URL !== undefined && DEPLOYER_PRIVATE_KEY !== undefined
      ? { mainnet: { url: MAINNET_RPC_URL, chainId: 1, accounts: [DEPLOYER_PRIVATE_KEY] } }
      : {}),
  },
  // hardhat-deploy: the deployer pays; governance owns the price guard and the factory; the guardian may pause.
  // Locally they are accounts 0, 0 and 1 (as local:deploy); on mainnet set BALLAST_GOVERNANCE / BALLAST_GUARDIAN.
  namedAccounts: {
    deployer: { default: 0 },
    governance: { default: 0, mainnet: process.env.BALLAST_GOVERNANCE ?? 0 },
    guardian: { default: 1, mainnet: process.env.BALLAST_GUARDIAN ?? 0 },
  },
  etherscan: {
    apiKey: ETHERSCAN_API_KEY ?? "",
  },
  sourcify: {
    enabled: false,
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
    externalArtifacts: [`${STAGED_ARTIFACTS_DIR}/*.json`],
  },
  mocha: {
    timeout: 300_000,
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
  },
};

export default config;
