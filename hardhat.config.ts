import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";
import "hardhat-deploy";

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

const COMPILER_SETTINGS = { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" };

const config: HardhatUserConfig = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: COMPILER_SETTINGS }],
    // The vault must fit the 24,576-byte limit (EIP-170); at 10,000 runs it does not. The factory embeds the
    // vault's creation code, so it is compiled the same way.
    overrides: Object.fromEntries(
      ["contracts/vault/BallastVault.sol", "contracts/vault/VaultFactory.sol"].map((file) => [
        file,
        {
          version: SOLC_VERSION,
          settings: { ...COMPILER_SETTINGS, viaIR: true, optimizer: { enabled: true, runs: 200 } },
        },
      ]),
    ),
  },
  networks: {
    hardhat: {
      // The local market funds many accounts and deploys large Aave contracts.
      blockGasLimit: 60_000_000,
      initialBaseFeePerGas: 1_000_000_000,
      // Instrumented for coverage, the factory's creation (vault and auction included) outgrows Osaka's 2^24
      // per-transaction gas cap (EIP-7825); uninstrumented it fits, and every other run keeps the cap.
      ...(process.env.BALLAST_COVERAGE === "1" ? { hardfork: "prague" } : {}),
    },
    localhost: {
      url: "http://127.0.0.1:8545",
    },
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
