#!/usr/bin/env node
// `npm run test:fork`: the mainnet-fork suite (test/fork) on its own mocha run, forking MAINNET_RPC_URL at the pinned
// block (hardhat.config.ts, BALLAST_FORK=1). Without MAINNET_RPC_URL it says so in one line and exits 0.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

if (!process.env.MAINNET_RPC_URL) {
  console.log(
    "test:fork skipped: MAINNET_RPC_URL is not set (an archive node URL; the suite forks mainnet at block 19200000)",
  );
  process.exit(0);
}
const dir = path.join(__dirname, "..", "test", "fork");
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".spec.ts"))
  .map((f) => path.join("test", "fork", f));
const run = spawnSync("npx", ["hardhat", "test", ...files], {
  stdio: "inherit",
  env: { ...process.env, BALLAST_FORK: "1" },
});
process.exit(run.status ?? 1);
