import { LOCAL } from "./local";
import { MAINNET } from "./mainnet";
import type { NetworkConfig } from "./types";

export * from "./types";
export { CurveKind, LOCAL, LOCAL_PARAMS } from "./local";
export { MAINNET, MAINNET_FORK_BLOCK } from "./mainnet";

const CONFIGS: Record<string, NetworkConfig> = { hardhat: LOCAL, localhost: LOCAL, mainnet: MAINNET };

/** The networks a configuration exists for. */
export const SUPPORTED_NETWORKS: readonly string[] = Object.keys(CONFIGS);

/** True when the hardhat network forks mainnet (BALLAST_FORK=1, see hardhat.config.ts). */
export function isMainnetFork(): boolean {
  return process.env.BALLAST_FORK === "1";
}

/**
 * The configuration of a network; the hardhat network takes mainnet's when it forks it.
 * @throws Error naming the supported networks for any other network.
 */
export function configFor(network: string): NetworkConfig {
  if (network === "hardhat" && isMainnetFork()) return MAINNET;
  const config = CONFIGS[network];
  if (config === undefined) {
    throw new Error(
      `No Ballast configuration for network "${network}"; supported: ${SUPPORTED_NETWORKS.join(", ")}. ` +
        `Add lib/deploy/config/${network}.ts and list it in lib/deploy/config/index.ts.`,
    );
  }
  return config;
}
