/**
 * The address book of a Ballast deployment: one JSON file per network, `deployments/<network>.json` by default.
 * `npx hardhat local:deploy` writes it; the intent and vault tasks read it. Plain data, no Hardhat imports, so the
 * keeper bot and scripts can use it too.
 */
import fs from "node:fs";
import path from "node:path";

import { getAddress, isAddress } from "ethers";

export const DEPLOYMENT_TOKENS = ["WETH", "WBTC", "USDC"] as const;
export type DeploymentToken = (typeof DEPLOYMENT_TOKENS)[number];

export const DEPLOYMENT_CONTRACTS = [
  "factory",
  "forwarder",
  "priceGuard",
  "executor",
  "pool",
  "router",
  "quoter",
] as const;
export type DeploymentContract = (typeof DEPLOYMENT_CONTRACTS)[number];

/**
 * Contracts a book may leave out: books written before `local:deploy` recorded them still parse. The keeper bot needs
 * the lens (or `--lens`); the auction is also the factory's `AUCTION()`.
 */
export const OPTIONAL_DEPLOYMENT_CONTRACTS = ["lens", "auction"] as const;
export type OptionalDeploymentContract = (typeof OPTIONAL_DEPLOYMENT_CONTRACTS)[number];

export interface BallastDeployment {
  network: string;
  chainId: number;
  contracts: Record<DeploymentContract, string> &
    Partial<Record<OptionalDeploymentContract, string>> & { tokens: Record<DeploymentToken, string> };
}

/** A missing, unreadable or malformed address book; the message says what to run. */
export class DeploymentError extends Error {
  override readonly name = "DeploymentError";
}

/** Where the address book of `network` lives unless a file is given: `<root>/deployments/<network>.json`. */
export function deploymentPath(network: string, root: string = process.cwd()): string {
  return path.join(root, "deployments", `${network}.json`);
}

/**
 * The address book file every task, script 07 and `deployments:print` use: `file` (a task's --deployments), else
 * BALLAST_ADDRESS_BOOK (tests), else `deployments/<network>.json`. One function, so they cannot disagree.
 */
export function addressBookPath(network: string, root?: string, file?: string): string {
  const chosen = file ?? process.env.BALLAST_ADDRESS_BOOK;
  return chosen !== undefined ? path.resolve(chosen) : deploymentPath(network, root);
}

/**
 * The network to name in advice: the in-process `hardhat` network forgets everything when a command ends, so a
 * command to run next only helps on a node (`localhost`).
 */
export function adviceNetwork(network: string): string {
  return network === "hardhat" ? "localhost" : network;
}

/** What to run to get a deployment on `network`. The in-process hardhat network forgets it when the command ends. */
export function deployHint(network: string): string {
  if (network === "hardhat") {
    return (
      "the in-process hardhat network starts empty with every command: start `npx hardhat node` (its deploy " +
      "scripts write the book) and pass --network localhost"
    );
  }
  // A live network has no local:deploy (it deploys a mock market): its book comes from the deploy scripts.
  const command = network === "localhost" ? "local:deploy" : "deploy";
  return `run \`npx hardhat ${command} --network ${network}\``;
}

function address(value: unknown, field: string, file: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new DeploymentError(`${file}: ${field} must be an address, got ${JSON.stringify(value)}`);
  }
  return getAddress(value);
}

/** Checks the shape of parsed JSON and normalises the addresses to their checksummed form. */
export function parseDeployment(raw: unknown, file = "address book"): BallastDeployment {
  if (typeof raw !== "object" || raw === null) throw new DeploymentError(`${file}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  if (typeof obj.network !== "string" || obj.network === "") {
    throw new DeploymentError(`${file}: "network" must be a non-empty string`);
  }
  const chainId = typeof obj.chainId === "string" ? Number(obj.chainId) : obj.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new DeploymentError(`${file}: "chainId" must be a positive integer, got ${JSON.stringify(obj.chainId)}`);
  }
  const contracts = obj.contracts;
  if (typeof contracts !== "object" || contracts === null) {
    throw new DeploymentError(`${file}: "contracts" must be an object`);
  }
  const c = contracts as Record<string, unknown>;
  const tokensRaw = c.tokens;
  if (typeof tokensRaw !== "object" || tokensRaw === null) {
    throw new DeploymentError(`${file}: "contracts.tokens" must be an object`);
  }
  const t = tokensRaw as Record<string, unknown>;
  const tokens = Object.fromEntries(
    DEPLOYMENT_TOKENS.map((symbol) => [symbol, address(t[symbol], `contracts.tokens.${symbol}`, file)]),
  ) as Record<DeploymentToken, string>;
  const named = Object.fromEntries(
    DEPLOYMENT_CONTRACTS.map((name) => [name, address(c[name], `contracts.${name}`, file)]),
  ) as Record<DeploymentContract, string>;
  const optional: Partial<Record<OptionalDeploymentContract, string>> = {};
  for (const name of OPTIONAL_DEPLOYMENT_CONTRACTS) {
    if (c[name] !== undefined) optional[name] = address(c[name], `contracts.${name}`, file);
  }
  return { network: obj.network, chainId, contracts: { ...named, ...optional, tokens } };
}

/**
 * Reads the address book of `network` from `file` (default `deployments/<network>.json` under `root`).
 * @throws DeploymentError naming the command to run when the file is missing or malformed.
 */
export function readDeployment(network: string, file?: string, root?: string): BallastDeployment {
  const resolved = addressBookPath(network, root, file);
  const hint = `${deployHint(network)}${network === "hardhat" ? "" : " first"} (or pass --deployments <file>)`;
  if (!fs.existsSync(resolved)) {
    throw new DeploymentError(
      file !== undefined
        ? `Deployment file ${resolved} does not exist: ${hint}`
        : `No Ballast deployment for network ${network}: ${hint}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(resolved, "utf8"));
  } catch (e) {
    throw new DeploymentError(`${resolved} is not valid JSON (${(e as Error).message}): ${hint}`);
  }
  return parseDeployment(raw, resolved);
}

/** Writes the address book (creating the folder) and returns the absolute path written. */
export function writeDeployment(deployment: BallastDeployment, file?: string, root?: string): string {
  const resolved = addressBookPath(deployment.network, root, file);
  const checked = parseDeployment(deployment, resolved);
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  fs.writeFileSync(resolved, `${JSON.stringify(checked, null, 2)}\n`);
  return resolved;
}

/** A token of the book by symbol (case-insensitive), or `undefined`. */
export function tokenBySymbol(deployment: BallastDeployment, symbol: string): string | undefined {
  const key = DEPLOYMENT_TOKENS.find((s) => s.toLowerCase() === symbol.toLowerCase());
  return key === undefined ? undefined : deployment.contracts.tokens[key];
}

/** The symbol the book gives an address, or `undefined`. */
export function symbolOf(deployment: BallastDeployment, token: string): DeploymentToken | undefined {
  const wanted = token.toLowerCase();
  return DEPLOYMENT_TOKENS.find((s) => deployment.contracts.tokens[s].toLowerCase() === wanted);
}
