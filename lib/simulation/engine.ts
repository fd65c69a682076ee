/**
 * The keeper simulation: deploys the local market and Ballast on the in-process network, prepares the owners, takes a
 * snapshot, and for each policy reverts to it, opens the same vaults with that policy and replays the price path.
 * Each step: the chain moves to the step's time (12-second blocks), the world sets the WETH price and arbitrages the
 * pools, the feeds are refreshed when due; then the liquidator, then the keepers until the next step. Block times are
 * pinned (see clock.ts) and every draw comes from the seed, so a run's result depends on its options only. The chain
 * is put back as it was at the end.
 */
import { performance } from "node:perf_hooks";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { BallastVault__factory } from "../../typechain-types";
import { mined } from "../market/aave";
import { deployMarket, poolKey, type Market } from "../market";
import { deployProtocol, LOCAL_PARAMS, singleHopPath, type Protocol } from "../protocol";
import { Router } from "../keeper/routing";
import { KeeperFleet, RAW_DECODER, type FailureDecoder, type FleetContext } from "./automation";
import type { HealthPoint } from "./chart";
import { installBlockClock, type BlockClock } from "./clock";
import { drawDowntime } from "./downtime";
import { baseFeeWei } from "./gas";
import { SimulationError } from "./errors";
import { BLOCK_SECONDS, buildKeepers, RewardCurve, type KeeperProfile } from "./keepers";
import { Liquidator } from "./liquidator";
import { PolicyMetrics, round, type PolicyResult } from "./metrics";
import { policySetup, volatilityBand, type PolicyName, type PolicySetup, type VolatilityBand } from "./policies";
import { buildPopulation, prepareOwners, VAULT_SALT, type VaultSpec } from "./population";
import type { PricePath } from "./scenarios";
import { Stopwatch } from "./stopwatch";
import type { StressSet } from "./stress";
import { observe, predictedHF, trackVault, type TrackedVault } from "./tracking";
import { summarize, type SimulationResult } from "./result";

/** Feeds other than WETH's (which every step sets) are refreshed this often: half their heartbeat. */
const REFRESH_SECONDS = LOCAL_PARAMS.heartbeat / 2;
const E8 = 1e8;
/** Opens and rebalances swap through the WETH/USDC 0.05% pool, the price guard's reference pool. */
const ROUTE_FEE = 500;
const ROUTE_POOL = poolKey({ base: "WETH", quote: "USDC", fee: ROUTE_FEE });

export interface SimulationOptions {
  /** The price path, already at the local market's price level (scenarios are; rescale a CSV path). */
  path: PricePath;
  /** Where the path came from, for the result: "scenario" or the CSV file as given. */
  source: string;
  policies: readonly PolicyName[];
  vaults: number;
  keepers: number;
  seed: number;
  /** Survival probability the `volatility` band is sized for. */
  survival: number;
  /** Market stresses switched on (lib/simulation/stress.ts). */
  stress: StressSet;
  /** Names failed keeper transactions; defaults to selectors and messages. */
  decoder?: FailureDecoder;
  /** The Monte Carlo path's index (default 0): downtime draws come from the seed and it. */
  pathIndex?: number;
  /** Downtime stress: all keepers down together in the path's worst hour (default true). */
  correlatedOutage?: boolean;
}

export interface SimulationSetup {
  keepers: readonly KeeperProfile[];
  population: readonly VaultSpec[];
  volatility?: VolatilityBand;
  /** Steps over all policies, for a progress bar. */
  totalSteps: number;
}

export interface SimulationHooks {
  /** Everything is deployed and the replay is about to start. */
  onReady?(setup: SimulationSetup): void;
  onStep?(policy: PolicyName, step: number): void;
}

export interface SimulationTimings {
  totalSeconds: number;
  /** Deployment, owners and preparation before the first policy. */
  setupSeconds: number;
  policySeconds: Partial<Record<PolicyName, number>>;
  /** Seconds per phase over all policies: deploy, owners, open, prices, liquidator, keepers (lens included), lens. */
  phases: Record<string, number>;
}

export interface SimulationOutcome {
  result: SimulationResult;
  /** The worst HF of each policy's vaults at each step, for the chart. */
  series: HealthPoint[];
  timings: SimulationTimings;
}

const priceE8 = (usd: number): bigint => BigInt(Math.round(usd * E8));

function check(options: SimulationOptions): void {
  const fail = (what: string): never => {
    throw new SimulationError(`Simulation: ${what}`);
  };
  if (options.path.points.length < 2) fail("the price path needs at least 2 points");
  if (options.policies.length === 0) fail("no policy to run");
  if (!Number.isSafeInteger(options.vaults) || options.vaults < 1)
    fail(`vaults must be 1 or more, got ${options.vaults}`);
  if (!Number.isSafeInteger(options.keepers) || options.keepers < 1) {
    fail(`keepers must be 1 or more, got ${options.keepers}`);
  }
}

/** Runs every policy of `options` on the in-process network; see the module comment. */
export async function runSimulation(
  hre: HardhatRuntimeEnvironment,
  options: SimulationOptions,
  hooks: SimulationHooks = {},
): Promise<SimulationOutcome> {
  check(options);
  if (hre.network.name !== "hardhat") {
    throw new SimulationError(
      `The simulation deploys its own market on the in-process network; run it without --network (got ${hre.network.name})`,
    );
  }
  const signers = await hre.ethers.getSigners();
  if (signers.length < 2 + options.keepers) {
    throw new SimulationError(
      `${options.keepers} keepers need ${2 + options.keepers} accounts; the network has ${signers.length}`,
    );
  }
  // Everything that needs no chain first, so that a band that cannot fit the bounds fails before any deployment.
  const keepers = buildKeepers(options.keepers, options.seed);
  const population = buildPopulation(options.vaults, options.seed);
  const band = options.policies.includes("volatility")
    ? volatilityBand(options.path, keepers, options.survival)
    : undefined;

  const started = performance.now();
  const watch = new Stopwatch();
  const provider = hre.network.provider;
  const outer = (await provider.request({ method: "evm_snapshot" })) as string;
  const clock = installBlockClock(provider);
  try {
    const run = await prepare(hre, options, signers, keepers, population, clock, watch);
    hooks.onReady?.({
      keepers,
      population,
      volatility: band,
      totalSteps: options.path.points.length * options.policies.length,
    });
    const setupSeconds = (performance.now() - started) / 1000;

    const policies: Partial<Record<PolicyName, PolicyResult>> = {};
    const policySeconds: Partial<Record<PolicyName, number>> = {};
    const series: HealthPoint[] = [];
    let snapshot = (await provider.request({ method: "evm_snapshot" })) as string;
    for (const [i, name] of options.policies.entries()) {
      const policyStart = performance.now();
      if (i > 0) {
        // Reverting uses the snapshot up: take it again for the next policy.
        await provider.request({ method: "evm_revert", params: [snapshot] });
        snapshot = (await provider.request({ method: "evm_snapshot" })) as string;
      }
      const measured = await runPolicy(run, policySetup(name, band), (step) => hooks.onStep?.(name, step));
      series.push(...measured.series);
      policies[name] = measured.outcome;
      policySeconds[name] = round((performance.now() - policyStart) / 1000, 1);
    }
    return {
      result: summarize(options.path, options.source, options.seed, population, keepers, band, policies),
      series,
      timings: {
        totalSeconds: round((performance.now() - started) / 1000, 1),
        setupSeconds: round(setupSeconds, 1),
        policySeconds,
        phases: watch.seconds(),
      },
    };
  } finally {
    await provider.request({ method: "evm_revert", params: [outer] });
    clock.restore();
  }
}

/** What every policy's run starts from: the deployment, the prepared owners, the liquidator and the keepers. */
interface PreparedRun {
  market: Market;
  protocol: Protocol;
  population: readonly VaultSpec[];
  owners: readonly HardhatEthersSigner[];
  liquidator: Liquidator;
  fleet: KeeperFleet;
  keepers: readonly KeeperProfile[];
  clock: BlockClock;
  watch: Stopwatch;
  path: PricePath;
  /** Gas stress: the base fee at each point of the path, wei. */
  baseFees?: readonly bigint[];
}

/** Deploys the market and Ballast, funds the owners and the liquidator, and readies the keepers. */
async function prepare(
  hre: HardhatRuntimeEnvironment,
  options: SimulationOptions,
  signers: readonly HardhatEthersSigner[],
  keepers: readonly KeeperProfile[],
  population: readonly VaultSpec[],
  clock: BlockClock,
  watch: Stopwatch,
): Promise<PreparedRun> {
  const [governance, guardian] = signers;
  const { market, protocol } = await watch.time("deploy", async () => {
    const m = await deployMarket(hre);
    return { market: m, protocol: await deployProtocol(m, governance, guardian) };
  });
  const owners = await watch.time("owners", () => prepareOwners(hre, market, protocol.factory, population));
  const liquidator = await Liquidator.prepare(market);
  const keeperSigners = signers.slice(2, 2 + keepers.length);
  const decoder = options.decoder ?? RAW_DECODER;
  const context = await fleetContext(market, protocol, keepers, keeperSigners, clock, watch, decoder);
  context.gasStress = options.stress.has("gas");
  context.downtime = options.stress.has("downtime")
    ? drawDowntime(options.path, keepers.length, {
        seed: options.seed,
        pathIndex: options.pathIndex,
        correlated: options.correlatedOutage,
      })
    : undefined;
  const fleet = new KeeperFleet(context);
  const baseFees = context.gasStress ? baseFeeWei(options.path) : undefined;
  return {
    market,
    protocol,
    population,
    owners,
    liquidator,
    fleet,
    keepers,
    clock,
    watch,
    path: options.path,
    baseFees,
  };
}

/** One policy from the snapshot: open every vault with it, replay the path, measure. */
async function runPolicy(
  run: PreparedRun,
  setup: PolicySetup,
  onStep: (step: number) => void,
): Promise<{ outcome: PolicyResult; series: HealthPoint[] }> {
  const { market, path } = run;
  const metrics = new PolicyMetrics(setup.name, run.keepers);
  const vaults = await run.watch.time("open", () => openVaults(run, setup));
  metrics.equityStartBase = await readEquity(market, vaults, priceE8(path.points[0].price));
  await replay(run, vaults, metrics, onStep);
  metrics.equityEndBase = await readEquity(market, vaults, priceE8(path.points[path.points.length - 1].price));
  const outcome = metrics.result(
    setup.paused ? undefined : setup.policy,
    vaults.filter((v) => v.need !== undefined).length,
  );
  return { outcome, series: metrics.series };
}

/** Creates and opens every owner's vault with the policy (static: at HF0, then pauses automation). */
async function openVaults(run: PreparedRun, setup: PolicySetup): Promise<TrackedVault[]> {
  const { market, protocol } = run;
  const up = await singleHopPath(market, "USDC", "WETH", ROUTE_FEE);
  const opened: TrackedVault[] = [];
  for (const [i, spec] of run.population.entries()) {
    const owner = run.owners[i];
    const { WETH, USDC } = market.tokens.erc20;
    await mined(protocol.factory.connect(owner).createVault(WETH, USDC, setup.policy, VAULT_SALT));
    const address = await protocol.factory.predictVault(spec.owner, VAULT_SALT);
    const vault = BallastVault__factory.connect(address, owner);
    await mined(vault.open(spec.deposit, setup.openHF(spec), up));
    // Every open buys WETH in the route's pool: bring it back to the oracle so the next open's slippage bound (1%)
    // holds even for a hundred highly levered vaults.
    await market.world.arbitrage(ROUTE_POOL);
    if (setup.paused) await mined(vault.pauseAutomation(true));
    opened.push(trackVault(spec, address, setup.policy, !setup.paused));
  }
  return opened;
}

async function fleetContext(
  market: Market,
  protocol: Protocol,
  keepers: readonly KeeperProfile[],
  keeperSigners: readonly HardhatEthersSigner[],
  clock: BlockClock,
  watch: Stopwatch,
  decoder: FailureDecoder,
): Promise<FleetContext> {
  const bounds = await protocol.factory.policyBounds();
  const config = await protocol.auction.config();
  return {
    lens: protocol.lens,
    auctions: keeperSigners.map((signer) => protocol.auction.connect(signer)),
    recipients: keeperSigners.map((signer) => signer.address),
    keepers,
    curve: await RewardCurve.read(protocol.auction, Number(bounds.maxKeeperRewardBpsCap)),
    priceGuard: protocol.priceGuard,
    weth: await market.tokens.erc20.WETH.getAddress(),
    usdc: await market.tokens.erc20.USDC.getAddress(),
    // The keeper bot's router, offered the route pool only: no other fee tier, no intermediate token.
    router: new Router(market.uniswap.quoter, market.uniswap.factory, [], [ROUTE_FEE]),
    provider: keeperSigners[0].provider,
    usdcPrice: await market.world.oraclePrice("USDC"),
    minDebtBase: config.minDebtBase,
    clock,
    advanceTo: (time) => advanceTo(market, clock, time),
    decoder,
    timeLens: (read) => watch.time("lens", read),
  };
}

/** Moves the chain forward to `time` in 12-second blocks (at least one); nothing when it is there already. */
async function advanceTo(market: Market, clock: BlockClock, time: number): Promise<void> {
  const now = await clock.latest();
  if (time <= now) return;
  const seconds = time - now;
  await market.world.advance(seconds, Math.max(1, Math.floor(seconds / BLOCK_SECONDS)));
}

/** Collateral less debt of every vault, oracle base units; also records each HF. */
async function readEquity(market: Market, vaults: readonly TrackedVault[], price: bigint): Promise<bigint> {
  let equity = 0n;
  for (const v of vaults) {
    const account = await market.aave.pool.getUserAccountData(v.address);
    observe(v, account.healthFactor, price);
    equity += account.totalCollateralBase - account.totalDebtBase;
  }
  return equity;
}

/** The step loop of one policy: price, then liquidator, then keepers until the next step. */
async function replay(
  run: PreparedRun,
  vaults: readonly TrackedVault[],
  metrics: PolicyMetrics,
  onStep: (step: number) => void,
): Promise<void> {
  const { market, clock, watch, liquidator, fleet } = run;
  const points = run.path.points;
  const t0 = points[0].timestamp;
  const start = (await clock.latest()) + BLOCK_SECONDS;
  let lastRefresh = -Infinity;
  fleet.begin(start, points[points.length - 1].timestamp - t0, metrics);
  for (let i = 0; i < points.length; i++) {
    // Gas stress: every block from here to the next step gets this step's base fee.
    if (run.baseFees !== undefined) clock.setBaseFee(run.baseFees[i]);
    const time = start + (points[i].timestamp - t0);
    // The last step lasts as long as the one before it.
    const next = i + 1 < points.length ? points[i + 1].timestamp : 2 * points[i].timestamp - points[i - 1].timestamp;
    const end = start + (next - t0);
    const price = priceE8(points[i].price);
    await watch.time("prices", async () => {
      await advanceTo(market, clock, time);
      await market.world.setPrice("WETH", price);
      if ((await clock.latest()) - lastRefresh >= REFRESH_SECONDS) {
        await market.world.refreshOracles();
        lastRefresh = await clock.latest();
      }
    });
    metrics.step(
      points[i].timestamp,
      vaults.map((v) => predictedHF(v, price)),
    );
    const liquidations = await watch.time("liquidator", () => liquidator.run(vaults, price));
    for (const l of liquidations) metrics.liquidation(l.vault.spec.index, l.calls, l.penaltyBase);
    await watch.time("keepers", () => fleet.step(vaults, price, end, metrics));
    onStep(i);
  }
  // The next policy opens its vaults at the node's own base fee.
  clock.setBaseFee(undefined);
}
