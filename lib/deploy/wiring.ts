/**
 * The settings Ballast needs after its contracts are deployed, as a list of changes: only what differs from the chain,
 * so applying the list twice sends nothing the second time. `deployProtocol` (tests, local:deploy) and the configure
 * deploy script both build their transactions here.
 */
import type { ContractTransactionResponse, Signer } from "ethers";

import {
  IUniswapV3Factory__factory,
  type IKeeperAuction,
  type IVaultFactory,
  type KeeperAuction,
  type PriceGuard,
  type VaultFactory,
} from "../../typechain-types";

/** One owner call that would bring a setting to its configured value. */
export interface Change {
  /** What it sets, for logs: `PriceGuard.setHeartbeat(WETH, 3600)`. */
  label: string;
  to: string;
  data: string;
  send(signer: Signer): Promise<ContractTransactionResponse>;
}

interface Callable {
  getAddress(): Promise<string>;
  interface: { encodeFunctionData(method: string, args: readonly unknown[]): string };
  connect(signer: Signer): {
    getFunction(method: string): (...args: unknown[]) => Promise<ContractTransactionResponse>;
  };
}

async function change(
  contract: Callable,
  name: string,
  method: string,
  args: unknown[],
  shown: string,
): Promise<Change> {
  return {
    label: `${name}.${method}(${shown})`,
    to: await contract.getAddress(),
    data: contract.interface.encodeFunctionData(method, args),
    send: (signer) => contract.connect(signer).getFunction(method)(...args),
  };
}

/** Field-by-field equality of an on-chain struct and its configured value (numbers and bigints compared as bigints). */
export function sameStruct(current: object, wanted: object): boolean {
  const [have, want] = [current as Record<string, unknown>, wanted as Record<string, unknown>];
  return Object.keys(want).every((key) => {
    const [a, b] = [have[key], want[key]];
    return typeof b === "string"
      ? String(a).toLowerCase() === b.toLowerCase()
      : BigInt(a as bigint) === BigInt(b as bigint);
  });
}

export interface AssetSetting {
  symbol: string;
  address: string;
  heartbeat: number;
  /** The freshness feed the price guard should check; the zero address for the Aave source's own rounds. */
  freshnessFeed: string;
}

/** `PriceGuard.setHeartbeat` for every asset whose heartbeat differs. */
export async function heartbeatChanges(priceGuard: PriceGuard, assets: readonly AssetSetting[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const { symbol, address, heartbeat } of assets) {
    if ((await priceGuard.heartbeat(address)) !== BigInt(heartbeat)) {
      changes.push(
        await change(priceGuard, "PriceGuard", "setHeartbeat", [address, heartbeat], `${symbol}, ${heartbeat}`),
      );
    }
  }
  return changes;
}

/** `PriceGuard.setFreshnessFeed` for every asset whose freshness feed differs (the zero address clears one). */
export async function freshnessChanges(priceGuard: PriceGuard, assets: readonly AssetSetting[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const { symbol, address, freshnessFeed } of assets) {
    if ((await priceGuard.freshnessFeed(address)).toLowerCase() !== freshnessFeed.toLowerCase()) {
      changes.push(
        await change(
          priceGuard,
          "PriceGuard",
          "setFreshnessFeed",
          [address, freshnessFeed],
          `${symbol}, ${freshnessFeed}`,
        ),
      );
    }
  }
  return changes;
}

/** `PriceGuard.setTwapParameters` when the window or the deviation bound differs. */
export async function twapChanges(priceGuard: PriceGuard, window: number, maxDeviationBps: number): Promise<Change[]> {
  if (
    (await priceGuard.twapWindow()) === BigInt(window) &&
    (await priceGuard.maxDeviationBps()) === BigInt(maxDeviationBps)
  ) {
    return [];
  }
  return [
    await change(
      priceGuard,
      "PriceGuard",
      "setTwapParameters",
      [window, maxDeviationBps],
      `${window}, ${maxDeviationBps}`,
    ),
  ];
}

/** `PriceGuard.setDeleverageWindow` when the short window differs. */
export async function deleverageWindowChanges(priceGuard: PriceGuard, window: number): Promise<Change[]> {
  if ((await priceGuard.deleverageWindow()) === BigInt(window)) return [];
  return [await change(priceGuard, "PriceGuard", "setDeleverageWindow", [window], `${window}`)];
}

export interface PairSetting {
  collateral: { symbol: string; address: string };
  debt: { symbol: string; address: string };
  fee: number;
}

/** Per pair, in order: the price guard's reference pool, then the factory's allowance, each only if it differs. */
export async function pairChanges(
  priceGuard: PriceGuard,
  factory: VaultFactory,
  pairs: readonly PairSetting[],
): Promise<Change[]> {
  const uniswap = IUniswapV3Factory__factory.connect(await priceGuard.UNISWAP_FACTORY(), priceGuard.runner);
  const changes: Change[] = [];
  for (const { collateral, debt, fee } of pairs) {
    const shown = `${collateral.symbol}, ${debt.symbol}`;
    const pool = await uniswap.getPool(collateral.address, debt.address, fee);
    if ((await priceGuard.referencePool(collateral.address, debt.address)) !== pool) {
      changes.push(
        await change(
          priceGuard,
          "PriceGuard",
          "setReferencePool",
          [collateral.address, debt.address, fee],
          `${shown}, ${fee}`,
        ),
      );
    }
    if (!(await factory.isPairAllowed(collateral.address, debt.address))) {
      changes.push(
        await change(factory, "VaultFactory", "setPair", [collateral.address, debt.address, true], `${shown}, true`),
      );
    }
  }
  return changes;
}

export interface RouteSetting {
  tokenA: { symbol: string; address: string };
  tokenB: { symbol: string; address: string };
  fee: number;
}

/** `PriceGuard.setRoute(..., true)` for every configured pool not yet allowed; other allowed pools are left alone. */
export async function routeChanges(priceGuard: PriceGuard, routes: readonly RouteSetting[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const { tokenA, tokenB, fee } of routes) {
    if (!(await priceGuard.routeAllowed(tokenA.address, tokenB.address, fee))) {
      changes.push(
        await change(
          priceGuard,
          "PriceGuard",
          "setRoute",
          [tokenA.address, tokenB.address, fee, true],
          `${tokenA.symbol}, ${tokenB.symbol}, ${fee}, true`,
        ),
      );
    }
  }
  return changes;
}

/** `VaultFactory.setPolicyBounds` when any bound differs. */
export async function boundsChanges(
  factory: VaultFactory,
  bounds: IVaultFactory.PolicyBoundsStruct,
): Promise<Change[]> {
  const current = await factory.policyBounds();
  return sameStruct(current, bounds) ? [] : [await change(factory, "VaultFactory", "setPolicyBounds", [bounds], "…")];
}

/** `KeeperAuction.setConfig` when any field of the auction's curve differs. */
export async function auctionChanges(auction: KeeperAuction, config: IKeeperAuction.ConfigStruct): Promise<Change[]> {
  const current = await auction.config();
  return sameStruct(current, config) ? [] : [await change(auction, "KeeperAuction", "setConfig", [config], "…")];
}

/** `KeeperAuction.setGasConfig` when any field of the gas pricing differs. */
export async function auctionGasChanges(
  auction: KeeperAuction,
  gasConfig: IKeeperAuction.GasConfigStruct,
): Promise<Change[]> {
  const current = await auction.gasConfig();
  if (sameStruct(current, gasConfig)) return [];
  return [await change(auction, "KeeperAuction", "setGasConfig", [gasConfig], "…")];
}

/** `VaultFactory.setGuardian` when the guardian differs. */
export async function guardianChanges(factory: VaultFactory, guardian: string): Promise<Change[]> {
  if ((await factory.guardian()).toLowerCase() === guardian.toLowerCase()) return [];
  return [await change(factory, "VaultFactory", "setGuardian", [guardian], guardian)];
}

/** Sends each change from `signer` and waits for it to be mined; returns how many were sent. */
export async function applyChanges(
  changes: readonly Change[],
  signer: Signer,
  onSent: (change: Change, gasUsed: bigint) => void = () => {},
): Promise<number> {
  for (const c of changes) {
    const receipt = await (await c.send(signer)).wait();
    if (receipt === null || receipt.status !== 1) throw new Error(`${c.label} failed (tx ${receipt?.hash ?? "?"})`);
    onSent(c, receipt.gasUsed);
  }
  return changes.length;
}
