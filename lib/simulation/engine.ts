/**
 * The keeper simulation: deploys the local market and Ballast on the in-process network, prepares the owners, takes a
 * snapshot, and for each policy reverts to it, opens the same vaults with that policy and replays the price path.
 * Each step: the market moves to the step's price (`StressedMarket.step`, lib/simulation/market: the chain moves to
 * the step's time in 12-second blocks, the pools follow the market, the feeds publish per the stresses switched on) and
 * returns the ORACLE price, which the liquidator, the keepers and the HF predictions use; then the liquidator, then the
 * keepers until the next step. Block times are
 * pinned (see clock.ts) and every draw comes from the seed, so a run's result depends on its options only. The chain
 * is put back as it was at the end.
 *
 * A run is a list of paths (`--paths`: the scenario, then seeded variants; `--shard`: a slice of them) and, on each
 * path, a list of runs (`RunSpec`: the policies asked for, then the static baselines matched to them, or the
 * frontier's bands). Everything deploys once; every (path, run) starts from the same snapshot.
 */
import { performance } from "node:perf_hooks";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, type Provider } from "ethers";

import { BallastVault__factory } from "../../typechain-types";
import { mined } from "../market/aave";
import { deployMarket, MARKET_ROLES, poolKey, roleAddress, type Market } from "../market";
import { deployProtocol, LOCAL_PARAMS, singleHopPath, type Protocol } from "../protocol";
import { guardRoutes, Router } from "../keeper/routing";
import { KeeperFleet, RAW_DECODER, type FailureDecoder, type FleetContext } from "./automation";
import { compare, holdResult, openingHF, staticSetupAt, type ComparedResult } from "./baselines";
import type { HealthPoint } from "./chart";
import { installBlockClock, type BlockClock } from "./clock";
import { drawDowntime } from "./downtime";
import { baseFeeWei } from "./gas";
import { SimulationError } from "./errors";
import { BLOCK_SECONDS, buildKeepers, RewardCurve, type KeeperProfile } from "./keepers";
import { Liquidator } from "./liquidator";
import { StressedMarket } from "./market";
import { PolicyMetrics, round, type PolicyResult } from "./metrics";
import {
  policySetup,
  volatilityBand,
  withOwnerRewardCaps,
  type PolicyName,
  type PolicySetup,
  type VolatilityBand,
} from "./policies";
import { buildPopulation, prepareOwners, VAULT_SALT, type VaultSpec } from "./population";
import type { PricePath } from "./scenarios";
import { Stopwatch } from "./stopwatch";
import type { StressSet } from "./stress";
import { observe, predictedHF, trackVault, type TrackedVault } from "./tracking";
import { summarize, type SimulationResult } from "./result";
import {
  finalize,
  pathAt,
  scenarioSummary,
  shardPaths,
  bandSummary,
  type PathRun,
  type Shard,
  type ShardHeader,
  type ShardResult,
} from "./montecarlo";
import { outageKind, stressList, type FeeRange } from "./stress";
import { harvestEvents, type EventSink, type HarvestContext, type RunEvents } from "./events";

/** Feeds other than WETH's (which every step sets) are refreshed this often: half their heartbeat. */
/** The market role namespace only the simulation deploys from (`roleAddress`). */
const SIMULATION_NAMESPACE = "simulation";
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
  /** Monte Carlo: how many paths (the scenario, then seeded variants of it); default 1. */
  paths?: number;
  /** Run only this slice of the paths (1-based index of `count`); default all. */
  shard?: Shard;
  /** Receives one event per open, kick, cancel, rebalance and liquidation. */
  events?: EventSink;
  /** Downtime stress: all keepers down together in the path's worst hour (default true). */
  correlatedOutage?: boolean;
  /** Gas stress: the range the keepers' max fees are drawn from, gwei (`--keeper-max-fee`; default 80-400). */
  keeperMaxFeeGwei?: FeeRange;
  /** The keepers, instead of `keepers` drawn from the seed: e.g. two alike, to make them race. */
  keeperProfiles?: readonly KeeperProfile[];
}

export interface SimulationSetup {
  keepers: readonly KeeperProfile[];
  population: readonly VaultSpec[];
  volatility?: VolatilityBand;
  /** Steps over all policies, baselines and paths of this run, for a progress bar. */
  totalSteps: number;
  /** The path indices this process runs. */
  paths: readonly number[];
}

export interface SimulationHooks {
  /** Everything is deployed and the replay is about to start. */
  onReady?(setup: SimulationSetup): void;
  onStep?(policy: string, step: number): void;
}

export interface SimulationTimings {
  totalSeconds: number;
  /** Deployment, owners and preparation before the first policy. */
  setupSeconds: number;
  /** Seconds per run (policy or baseline), summed over the paths. */
  policySeconds: Record<string, number>;
  /** Steps replayed, over every run and path, and the wall time per step of one policy (open included), ms. */
  policySteps: number;
  msPerPolicyStep: number;
  /** With --workers: how many processes, and the wall time (start-up included) per policy-step over all of them. */
  workers?: number;
  wallMsPerPolicyStep?: number;
  /** Seconds per phase over all policies: deploy, owners, open, prices, liquidator, keepers (lens included), lens. */
  phases: Record<string, number>;
}

export interface SimulationOutcome {
  /** The whole result; null when only a shard of the paths ran (then see `shard`). */
  result: SimulationResult | null;
  /** What this process ran, as `--shard` writes it: `keeper:merge` combines such slices into `result`. */
  shard: ShardResult;
  /** The worst HF of each policy's vaults at each step of the first path, for the chart (empty without it). */
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

/** One run of a path: a policy, or a static baseline matched to one. */
export interface RunSpec {
  /** The policy it reports as (`static` for a baseline). */
  name: PolicyName;
  /** Where the result goes: `policies.<name>` or `baselines.<policy matched>`. */
  group: "policies" | "baselines";
  key: PolicyName;
  /** The label of its line in the chart and in the events. */
  label: string;
  setup: PolicySetup;
}

/**
 * The runs of one path: the policies asked for, in order, then the static baseline matched to every automated
 * policy other than reactive (whose baseline is `policies.static`, opened at reactive's target); reactive gets a
 * `baselines.reactive` only when `static` was not asked for.
 */
export function standardRuns(policies: readonly PolicyName[], band: VolatilityBand | undefined): RunSpec[] {
  const runs: RunSpec[] = policies.map((name) => ({
    name,
    group: "policies",
    key: name,
    label: name,
    setup: policySetup(name, band),
  }));
  for (const name of policies) {
    if (name === "static" || (name === "reactive" && policies.includes("static"))) continue;
    const hf = openingHF(name, band);
    runs.push({
      name: "static",
      group: "baselines",
      key: name,
      label: `static@${(Number(hf / 10n ** 16n) / 100).toFixed(2)}`,
      setup: staticSetupAt(hf),
    });
  }
  return runs;
}

/** The chain-free plan of one path: the path, its volatility band and its runs. */
export interface PathPlan {
  index: number;
  path: PricePath;
  band?: VolatilityBand;
  runs: RunSpec[];
}

export interface PathOutcome {
  plan: PathPlan;
  results: PolicyResult[];
  series: HealthPoint[];
}

export interface EngineOutcome {
  keepers: readonly KeeperProfile[];
  population: readonly VaultSpec[];
  outcomes: PathOutcome[];
  timings: SimulationTimings;
}

/**
 * The engine proper: deploys once, then for each path and each of its runs reverts to the snapshot and replays.
 * `plan` gives each path index its runs (chain-free: called for every path before anything is deployed).
 */
export async function runPaths(
  hre: HardhatRuntimeEnvironment,
  options: SimulationOptions,
  indices: readonly number[],
  plan: (path: PricePath, band: VolatilityBand | undefined) => RunSpec[],
  hooks: SimulationHooks = {},
): Promise<EngineOutcome> {
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
  const keepers = options.keeperProfiles ?? buildKeepers(options.keepers, options.seed, options.keeperMaxFeeGwei);
  const population = buildPopulation(
    options.vaults,
    options.seed,
    options.stress.has("liquidity") ? "mainnet" : "local",
  );
  const plans: PathPlan[] = indices.map((index) => {
    const path = pathAt(options.path, options.seed, index);
    const band = options.policies.includes("volatility") ? volatilityBand(path, keepers, options.survival) : undefined;
    return { index, path, band, runs: plan(path, band) };
  });
  const totalSteps = plans.reduce((n, p) => n + p.path.points.length * p.runs.length, 0);

  const started = performance.now();
  const watch = new Stopwatch();
  const provider = hre.network.provider;
  const outer = (await provider.request({ method: "evm_snapshot" })) as string;
  const clock = installBlockClock(provider);
  try {
    const run = await prepare(hre, options, signers, keepers, population, clock, watch);
    hooks.onReady?.({ keepers, population, volatility: plans[0]?.band, totalSteps, paths: indices });
    const setupSeconds = (performance.now() - started) / 1000;

    const policySeconds: Record<string, number> = {};
    const outcomes: PathOutcome[] = [];
    let snapshot = (await provider.request({ method: "evm_snapshot" })) as string;
    let first = true;
    let steps = 0;
    let replaySeconds = 0;
    for (const p of plans) {
      const results: PolicyResult[] = [];
      const series: HealthPoint[] = [];
      for (const spec of p.runs) {
        const policyStart = performance.now();
        if (!first) {
          // Reverting uses the snapshot up: take it again for the next run.
          await provider.request({ method: "evm_revert", params: [snapshot] });
          snapshot = (await provider.request({ method: "evm_snapshot" })) as string;
        }
        first = false;
        const events = options.events?.run(p.index, spec.label);
        const measured = await runPolicy({ ...run, path: p.path, pathIndex: p.index, events }, spec, (step) =>
          hooks.onStep?.(spec.label, step),
        );
        if (spec.group === "policies") series.push(...measured.series);
        results.push(measured.outcome);
        const seconds = (performance.now() - policyStart) / 1000;
        replaySeconds += seconds;
        steps += p.path.points.length;
        policySeconds[spec.label] = round((policySeconds[spec.label] ?? 0) + seconds, 1);
      }
      outcomes.push({ plan: p, results, series });
    }
    return {
      keepers,
      population,
      outcomes,
      timings: {
        totalSeconds: round((performance.now() - started) / 1000, 1),
        setupSeconds: round(setupSeconds, 1),
        policySeconds,
        policySteps: steps,
        msPerPolicyStep: steps === 0 ? 0 : round((replaySeconds * 1000) / steps, 1),
        phases: watch.seconds(),
      },
    };
  } finally {
    await provider.request({ method: "evm_revert", params: [outer] });
    clock.restore();
  }
}

/** A path's runs as the result reports them: each policy and baseline with its opening HF and comparisons. */
export function pathRun(outcome: PathOutcome, population: readonly VaultSpec[], survival: number): PathRun {
  const { plan, results } = outcome;
  const hold = holdResult(population, plan.path);
  const byKey = (group: RunSpec["group"], key: PolicyName): PolicyResult | undefined => {
    const i = plan.runs.findIndex((r) => r.group === group && r.key === key);
    return i < 0 ? undefined : results[i];
  };
  const policies: Partial<Record<PolicyName, ComparedResult>> = {};
  const baselines: Partial<Record<PolicyName, ComparedResult>> = {};
  for (const [i, spec] of plan.runs.entries()) {
    const matched = spec.name === "static" ? undefined : (byKey("baselines", spec.key) ?? byKey("policies", "static"));
    const compared = compare(results[i], spec.setup.openHF(population[0]), matched, hold);
    if (spec.group === "policies") policies[spec.key] = compared;
    else baselines[spec.key] = compared;
  }
  return {
    path: plan.index,
    scenario: scenarioSummary(plan.path),
    volatilityBand: bandSummary(plan.band, survival),
    hold,
    policies,
    baselines,
  };
}

/** What every shard of a run shares: the scenario itself, the vaults, the keepers, path 0's band, the stresses. */
export function shardHeader(
  options: SimulationOptions,
  population: readonly VaultSpec[],
  keepers: readonly KeeperProfile[],
): ShardHeader {
  const band = options.policies.includes("volatility")
    ? volatilityBand(options.path, keepers, options.survival)
    : undefined;
  const base = summarize(options.path, options.source, options.seed, population, keepers, band, {});
  return {
    scenario: base.scenario,
    vaults: base.vaults,
    keepers: base.keepers,
    volatilityBand: base.volatilityBand,
    stress: stressList(options.stress),
    outage: outageKind(options.stress, options.correlatedOutage),
  };
}

/** Runs every policy of `options` on the in-process network, over its paths; see the module comment. */
export async function runSimulation(
  hre: HardhatRuntimeEnvironment,
  options: SimulationOptions,
  hooks: SimulationHooks = {},
): Promise<SimulationOutcome> {
  const paths = options.paths ?? 1;
  const indices = shardPaths(paths, options.shard);
  const engine = await runPaths(hre, options, indices, (_, band) => standardRuns(options.policies, band), hooks);
  const shard: ShardResult = {
    format: "ballast-simulation-shard/1",
    shard: options.shard ?? { index: 1, count: 1 },
    paths,
    header: shardHeader(options, engine.population, engine.keepers),
    runs: engine.outcomes.map((o) => pathRun(o, engine.population, options.survival)),
  };
  const complete = options.shard === undefined || options.shard.count === 1;
  return {
    result: complete ? finalize([shard]) : null,
    shard,
    series: engine.outcomes.find((o) => o.plan.index === 0)?.series ?? [],
    timings: engine.timings,
  };
}

/** What every policy's run starts from: the deployment, the prepared owners, the liquidator and the keepers. */
interface PreparedRun {
  market: Market;
  protocol: Protocol;
  population: readonly VaultSpec[];
  owners: readonly HardhatEthersSigner[];
  liquidator: Liquidator;
  /** The market with the stresses: one `step` per path point, returning the oracle price. */
  stressed: StressedMarket;
  fleet: KeeperFleet;
  keepers: readonly KeeperProfile[];
  clock: BlockClock;
  watch: Stopwatch;
  path: PricePath;
  /** Where this run's events go, if anywhere. */
  events?: RunEvents;
  keeperAddresses: readonly string[];
  provider: Provider;
  usdcPrice: bigint;
  /** The Monte Carlo path being replayed: downtime draws come from the seed and it. */
  pathIndex: number;
  stress: StressSet;
  seed: number;
  correlatedOutage?: boolean;
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
  await checkUnusedRoles(hre);
  const { market, protocol } = await watch.time("deploy", async () => {
    const m = await deployMarket(hre, undefined, {
      liquidity: options.stress.has("liquidity") ? "mainnet" : "local",
      namespace: SIMULATION_NAMESPACE,
    });
    return { market: m, protocol: await deployProtocol(m, governance, guardian) };
  });
  const owners = await watch.time("owners", () => prepareOwners(hre, market, protocol.factory, population));
  const liquidator = await Liquidator.prepare(market, { sell: options.stress.has("sellers") });
  const stressed = await StressedMarket.prepare(hre, market, options.stress, clock, REFRESH_SECONDS);
  const keeperSigners = signers.slice(2, 2 + keepers.length);
  const decoder = options.decoder ?? RAW_DECODER;
  const context = await fleetContext(market, protocol, keepers, keeperSigners, clock, watch, decoder, stressed);
  context.gasStress = options.stress.has("gas");
  const fleet = new KeeperFleet(context);
  return {
    market,
    protocol,
    population,
    owners,
    liquidator,
    stressed,
    fleet,
    keepers,
    clock,
    watch,
    path: options.path,
    keeperAddresses: keeperSigners.map((k) => k.address),
    provider: hre.ethers.provider,
    usdcPrice: await market.world.oraclePrice("USDC"),
    pathIndex: 0,
    stress: options.stress,
    seed: options.seed,
    correlatedOutage: options.correlatedOutage,
  };
}

/**
 * The market's contract addresses follow from its role accounts' nonces, and the token order of every pool from
 * those addresses, which moves prices by rounding. The simulation deploys from roles of its own and reverts all it
 * did, so they are unused unless something else on this chain sent from them.
 */
async function checkUnusedRoles(hre: HardhatRuntimeEnvironment): Promise<void> {
  for (const role of MARKET_ROLES) {
    const address = roleAddress(role, SIMULATION_NAMESPACE);
    const nonce = await hre.ethers.provider.getTransactionCount(address);
    if (nonce !== 0) {
      throw new SimulationError(
        `The simulation's ${role} account ${address} has already sent ${nonce} transactions on this chain, so its ` +
          "market would not deploy at the usual addresses: run the simulation on a fresh in-process chain",
      );
    }
  }
}

/** One run from the snapshot: open every vault with its policy, replay the path, measure. */
async function runPolicy(
  run: PreparedRun,
  spec: RunSpec,
  onStep: (step: number) => void,
): Promise<{ outcome: PolicyResult; series: HealthPoint[] }> {
  const { market, path } = run;
  const setup = spec.setup;
  const metrics = new PolicyMetrics(spec.label, run.keepers);
  const vaults = await run.watch.time("open", () => openVaults(run, setup));
  const startPrice = priceE8(path.points[0].price);
  const equities = await readEquities(market, vaults, startPrice);
  metrics.equityStartBase = equities.reduce((a, b) => a + b, 0n);
  const openedAt = vaults.map((v) => predictedHF(v, startPrice));
  const fromBlock = (await run.provider.getBlockNumber()) + 1;
  await replay(run, vaults, metrics, onStep);
  metrics.market = run.stressed.report(priceE8(path.points[path.points.length - 1].price));
  if (run.events !== undefined) {
    recordOpens(run.events, vaults, equities, openedAt, startPrice, path.points[0].timestamp);
    await harvestEvents(harvestContext(run, vaults), run.events, fromBlock, await run.provider.getBlockNumber());
  }
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
    // The owner caps the keeper reward at 2% of the opening equity (the deposit at the oracle price).
    const equityBase = (spec.deposit * (await market.aave.oracle.getAssetPrice(WETH))) / 10n ** 18n;
    const policy = withOwnerRewardCaps(setup.policy, equityBase);
    await mined(protocol.factory.connect(owner).createVault(WETH, USDC, policy, VAULT_SALT));
    const address = await protocol.factory.predictVault(spec.owner, VAULT_SALT);
    const vault = BallastVault__factory.connect(address, owner);
    await mined(vault.open(spec.deposit, setup.openHF(spec), up));
    // Every open buys WETH in the route's pool: bring it back to the oracle so the next open's slippage bound (1%)
    // holds even for a hundred highly levered vaults.
    await market.world.arbitrage(ROUTE_POOL);
    if (setup.paused) await mined(vault.pauseAutomation(true));
    opened.push(trackVault(spec, address, policy, !setup.paused));
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
  stressed: StressedMarket,
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
    // The keeper bot's router, offered the route pool only: no other fee tier, no intermediate token; governance
    // allows it (LOCAL routes), and the guard is asked as the bot asks it.
    router: new Router(
      market.uniswap.quoter,
      market.uniswap.factory,
      guardRoutes(protocol.priceGuard),
      [],
      [ROUTE_FEE],
    ),
    provider: keeperSigners[0].provider,
    usdcPrice: await market.world.oraclePrice("USDC"),
    minDebtBase: config.minDebtBase,
    clock,
    advanceTo: (time) => stressed.advanceTo(time),
    decoder,
    timeLens: (read) => watch.time("lens", read),
  };
}

/** Collateral less debt of every vault, oracle base units; also records each HF. */
async function readEquity(market: Market, vaults: readonly TrackedVault[], price: bigint): Promise<bigint> {
  return (await readEquities(market, vaults, price)).reduce((a, b) => a + b, 0n);
}

/** Collateral less debt of each vault, oracle base units; also records each HF. */
async function readEquities(market: Market, vaults: readonly TrackedVault[], price: bigint): Promise<bigint[]> {
  const out: bigint[] = [];
  for (const v of vaults) {
    const account = await market.aave.pool.getUserAccountData(v.address);
    observe(v, account.healthFactor, price);
    out.push(account.totalCollateralBase - account.totalDebtBase);
  }
  return out;
}

/** The open events, at the path's first point: the deposit's value less the equity after opening is the cost. */
function recordOpens(
  events: RunEvents,
  vaults: readonly TrackedVault[],
  equities: readonly bigint[],
  hfs: readonly number[],
  price: bigint,
  time: number,
): void {
  for (const [i, v] of vaults.entries()) {
    const cost = (v.spec.deposit * price) / 10n ** 18n - equities[i];
    events.record({
      time,
      vault: v.spec.index,
      price: Number(price) / E8,
      hf: hfs[i],
      action: "open",
      keeper: "",
      costUsd: Number(cost / 1_000_000n) / 100,
    });
  }
}

function harvestContext(run: PreparedRun, vaults: readonly TrackedVault[]): HarvestContext {
  const { protocol, market } = run;
  return {
    provider: run.provider,
    auction: { address: String(protocol.auction.target), iface: protocol.auction.interface },
    vaultIface: BallastVault__factory.createInterface(),
    pool: { address: String(market.aave.pool.target), iface: market.aave.pool.interface },
    weth: String(market.tokens.erc20.WETH.target),
    usdcPrice: run.usdcPrice,
    keepers: run.keepers,
    keeperAddresses: run.keeperAddresses,
    vaults: new Map(vaults.map((v) => [getAddress(v.address), v.spec.index])),
  };
}

/** The step loop of one policy: price, then liquidator, then keepers until the next step. */
async function replay(
  run: PreparedRun,
  vaults: readonly TrackedVault[],
  metrics: PolicyMetrics,
  onStep: (step: number) => void,
): Promise<void> {
  const { clock, watch, liquidator, fleet, stressed } = run;
  const points = run.path.points;
  const t0 = points[0].timestamp;
  const start = (await clock.latest()) + BLOCK_SECONDS;
  await stressed.reset();
  // Gas and downtime stress are drawn for this path: each Monte Carlo path gets its own base fees and outages.
  const baseFees = run.stress.has("gas") ? baseFeeWei(run.path) : undefined;
  const downtime = run.stress.has("downtime")
    ? drawDowntime(run.path, run.keepers.length, {
        seed: run.seed,
        pathIndex: run.pathIndex,
        correlated: run.correlatedOutage,
      })
    : undefined;
  fleet.begin(start, points[points.length - 1].timestamp - t0, metrics, downtime);
  for (let i = 0; i < points.length; i++) {
    // Gas stress: every block from here to the next step gets this step's base fee.
    if (baseFees !== undefined) clock.setBaseFee(baseFees[i]);
    const time = start + (points[i].timestamp - t0);
    // The last step lasts as long as the one before it.
    const next = i + 1 < points.length ? points[i + 1].timestamp : 2 * points[i].timestamp - points[i - 1].timestamp;
    const end = start + (next - t0);
    // The path is the market's price; Aave, the liquidator, the keepers and the HF predictions use the oracle's.
    const price = await watch.time("prices", () => stressed.step(time, priceE8(points[i].price)));
    run.events?.step(await clock.latest(), points[i].timestamp, price);
    metrics.step(
      points[i].timestamp,
      vaults.map((v) => predictedHF(v, price)),
    );
    const liquidations = await watch.time("liquidator", () => liquidator.run(vaults, price));
    for (const l of liquidations) {
      metrics.liquidation(l.vault.spec.index, l.calls, l.penaltyBase);
      stressed.liquidatorSold(l.soldWeth, l.proceedsUsdc);
    }
    await watch.time("keepers", () => fleet.step(vaults, price, end, metrics));
    onStep(i);
  }
  // The next policy opens its vaults at the node's own base fee.
  clock.setBaseFee(undefined);
}
