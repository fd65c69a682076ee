/**
 * Lens benchmark: a keeper's scan of 1,000 vaults in one `eth_call`. Opens 1,000 small WETH/USDC vaults on the local
 * market, then times `VaultLens.scan(factory, 0, 1000)` (median of 3 calls) and estimates its gas and that of smaller
 * pages. Merges `{"scan": {...}}` into reports/gas.json, keeping every other key. Wall time depends on the machine
 * and its load; the gas figures do not.
 */
import { performance } from "node:perf_hooks";

import { parseUnits, toBeHex, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";
import type { HardhatNetworkConfig } from "hardhat/types";

import { deployMarket } from "../lib/market";
import { DEFAULT_POLICY, deployProtocol, singleHopPath } from "../lib/protocol";
import { BallastVault__factory, VaultLens__factory, type IVaultLens } from "../typechain-types";
import { mergeReport } from "./report";

const VAULTS = 1_000;
const RUNS = 3;
const PAGES = [100, 500, 750];
const DEPOSIT = parseUnits("0.1", 18);
const TARGET_HF = parseUnits("1.5", 18);
/** Fixed gas limits skip one `eth_estimateGas` per transaction (the setup sends 3,000). */
/** Block gas limit for this bench: enough for a 1,000-vault scan in one `eth_call`. */
const CALL_GAS_LIMIT = 300_000_000n;
const GAS = { create: 500_000n, approve: 100_000n, open: 1_500_000n };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const r = await (await tx).wait();
  if (r === null || r.status !== 1) throw new Error("transaction failed");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * At about 60,000 gas a status, 1,000 statuses need more than geth's default 50M `eth_call` cap and the project's 60M
 * block gas limit (the default `eth_call` gas on Hardhat), and Osaka caps a transaction's gas at 2^24 (EIP-7825),
 * which EDR applies to `eth_call` too. To time the whole registry in one call, this bench alone runs its in-process
 * node on Prague with a larger block gas limit; gas costs of the calls involved are the same on both forks. It must
 * run before the provider's first request, which reads this configuration.
 */
function liftCallGasCap(): void {
  if (hre.network.name !== "hardhat") throw new Error("bench/scan.ts runs on the in-process hardhat network only");
  const config = hre.network.config as HardhatNetworkConfig;
  config.hardfork = "prague";
  config.blockGasLimit = Number(CALL_GAS_LIMIT);
  config.gas = Number(CALL_GAS_LIMIT);
}

async function main(): Promise<void> {
  liftCallGasCap();
  const setupStart = performance.now();
  const market = await deployMarket(hre);
  const [governance, guardian, owner] = await hre.ethers.getSigners();
  const { factory } = await deployProtocol(market, governance, guardian);
  const lens = await new VaultLens__factory(governance).deploy();
  const weth = market.tokens.erc20.WETH;
  const usdc = market.tokens.erc20.USDC;
  const up = await singleHopPath(market, "USDC", "WETH", 500);
  await market.world.fund("WETH", owner.address, DEPOSIT * BigInt(VAULTS));

  // One owner, one salt per vault.
  for (let i = 0; i < VAULTS; i++) {
    const salt = toBeHex(i + 1, 32);
    await mined(factory.connect(owner).createVault(weth, usdc, DEFAULT_POLICY, salt, { gasLimit: GAS.create }));
    const vault = BallastVault__factory.connect(await factory.predictVault(owner.address, salt), owner);
    await mined(weth.connect(owner).approve(vault, DEPOSIT, { gasLimit: GAS.approve }));
    await mined(vault.open(DEPOSIT, TARGET_HF, up, { gasLimit: GAS.open }));
    if ((i + 1) % 100 === 0) {
      console.log(`opened ${i + 1}/${VAULTS} vaults (${((performance.now() - setupStart) / 1000).toFixed(1)} s)`);
    }
  }
  if ((await factory.vaultCount()) !== BigInt(VAULTS)) throw new Error("vault count mismatch");
  await market.world.refreshOracles();

  // Gas of smaller pages: memory grows with the result, so the cost per vault rises with the page size. Geth's
  // default `--rpc.gascap` is 50M.
  const pages: Record<string, number> = {};
  for (const size of PAGES) {
    const pageGas = await lens.scan.estimateGas(factory, 0, size);
    pages[`gas${size}`] = Number(pageGas);
    console.log(`${size}-vault page: ${pageGas} gas (${Number(pageGas / BigInt(size))} per vault)`);
  }

  // `ms1000` is what a keeper waits for with ethers: the `eth_call` and the decoding of 1,000 statuses into ethers
  // Results, which on the in-process node takes longer than the call itself; `callMs1000` is the `eth_call` alone.
  const times: number[] = [];
  const callTimes: number[] = [];
  const data = lens.interface.encodeFunctionData("scan", [await factory.getAddress(), 0, VAULTS]);
  let scanned = 0;
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    const raw = await hre.ethers.provider.call({ to: await lens.getAddress(), data });
    callTimes.push(performance.now() - t0);
    const [result] = lens.interface.decodeFunctionResult("scan", raw) as unknown as [
      IVaultLens.VaultStatusStructOutput[],
    ];
    times.push(performance.now() - t0);
    scanned = result.length;
    if (result.some((s) => !s.ok)) throw new Error("a vault's status failed in the scan");
  }
  if (scanned !== VAULTS) throw new Error(`scan returned ${scanned} vaults`);
  const callMs1000 = Math.round(median(callTimes) * 10) / 10;
  const ms1000 = Math.round(median(times) * 10) / 10;

  let gas: bigint | undefined;
  try {
    gas = await lens.scan.estimateGas(factory, 0, VAULTS);
  } catch (error: unknown) {
    console.warn("estimateGas failed:", error instanceof Error ? error.message : error);
  }

  console.log(`scan of ${VAULTS} vaults: ${times.map((t) => t.toFixed(1)).join(" / ")} ms, median ${ms1000} ms`);
  console.log(`eth_call alone: ${callTimes.map((t) => t.toFixed(1)).join(" / ")} ms, median ${callMs1000} ms`);
  console.log(`scan gas (estimateGas): ${gas === undefined ? "n/a" : gas.toString()}`);

  console.log(`total bench time ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  mergeReport({
    scan: { ms1000, callMs1000, vaults: VAULTS, ...(gas === undefined ? {} : { gas1000: Number(gas) }), ...pages },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
