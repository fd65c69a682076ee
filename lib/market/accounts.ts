import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, keccak256, toUtf8Bytes } from "ethers";

/** The market's own actors. They are impersonated addresses, so Hardhat's signers stay free for tests. */
export const MARKET_ROLES = ["admin", "lp", "arbitrageur", "treasury", "liquidator"] as const;
export type MarketRole = (typeof MARKET_ROLES)[number];
export type MarketAccounts = Record<MarketRole, HardhatEthersSigner>;

/** Enough ETH for gas and for wrapping into WETH liquidity. */
const ROLE_ETH = 10n ** 30n;

/**
 * A fixed address per role and namespace, so that a redeployed market has the same actors. A market's contract
 * addresses follow from its admin's nonce, so a caller that needs them reproducible (the simulation) takes a namespace
 * of its own that nothing else deploys from.
 */
export function roleAddress(role: MarketRole, namespace = "market"): string {
  return getAddress(keccak256(toUtf8Bytes(`ballast.${namespace}.${role}`)).slice(0, 42));
}

/** Impersonates and funds every market role; works on the in-process network and on `hardhat node`. */
export async function marketAccounts(hre: HardhatRuntimeEnvironment, namespace?: string): Promise<MarketAccounts> {
  const entries = await Promise.all(
    MARKET_ROLES.map(async (role) => {
      const address = roleAddress(role, namespace);
      await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [address] });
      await hre.network.provider.request({
        method: "hardhat_setBalance",
        params: [address, `0x${ROLE_ETH.toString(16)}`],
      });
      return [role, await hre.ethers.getSigner(address)] as const;
    }),
  );
  return Object.fromEntries(entries) as MarketAccounts;
}
