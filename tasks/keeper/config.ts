/**
 * `keeper:run --keeper-config keeper.json` (Hardhat keeps `--config` for its own file), or `KEEPER_CONFIG`: the task's
 * options from a JSON file, overridden by `KEEPER_*` environment variables, overridden by flags. One table,
 * `OPTION_KINDS`, says how each option is read; the type checker makes it name every option of `KeeperArgs`.
 */
import fs from "node:fs";
import path from "node:path";

import { DEFAULT_TRIGGER_MARGIN_BPS } from "../../lib/keeper/triggers";
import { TaskError } from "../shared/errors";
import type { KeeperArgs } from "./run";

type Kind = "int" | "float" | "string" | "flag";

/** `secret`: never read from the file or the environment by this table (the key has its own sources, keys.ts). */
const OPTION_KINDS: { [K in keyof KeeperArgs]-?: Kind | "secret" } = {
  keeperConfig: "secret",
  account: "int",
  key: "secret",
  keystore: "string",
  recipient: "string",
  deployments: "string",
  factory: "string",
  lens: "string",
  quoter: "string",
  fromBlock: "int",
  blockRange: "int",
  pageSize: "int",
  interval: "float",
  once: "flag",
  minProfit: "string",
  maxFee: "string",
  maxGasPrice: "string",
  priorityFee: "string",
  maxSpendPerPass: "string",
  txTimeout: "float",
  batchSize: "int",
  noCancel: "flag",
  via: "string",
  logFormat: "string",
  logDebug: "flag",
  privateRpc: "string",
  noIndex: "flag",
  sweepInterval: "float",
  triggerMargin: "int",
  metricsPort: "int",
  metricsHost: "string",
};

/** What an option is when no source sets it; the rest stay unset. */
export const KEEPER_DEFAULTS = {
  blockRange: 5_000,
  pageSize: 100,
  interval: 15,
  minProfit: "0",
  batchSize: 5,
  logFormat: "json",
  sweepInterval: 3_600,
  triggerMargin: DEFAULT_TRIGGER_MARGIN_BPS,
  metricsHost: "127.0.0.1",
} as const;

/** The options after `resolveKeeperArgs`: every defaulted one is set. */
export type ResolvedKeeperArgs = KeeperArgs & { -readonly [K in keyof typeof KEEPER_DEFAULTS]-?: KeeperArgs[K] & {} };

/** `maxSpendPerPass` → `KEEPER_MAX_SPEND_PER_PASS`. */
export function envName(option: string): string {
  return `KEEPER_${option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

const OPTIONS = Object.keys(OPTION_KINDS).filter(
  (k) => OPTION_KINDS[k as keyof KeeperArgs] !== "secret",
) as (keyof KeeperArgs)[];

function fromEnv(value: string, kind: Kind, name: string): number | string | boolean {
  if (kind === "flag") {
    if (["1", "true"].includes(value.toLowerCase())) return true;
    if (["0", "false"].includes(value.toLowerCase())) return false;
    throw new TaskError(`${name} must be true or false (or 1 or 0), got "${value}"`);
  }
  if (kind === "string") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
    throw new TaskError(`${name} must be ${kind === "int" ? "a whole number" : "a number"}, got "${value}"`);
  }
  return n;
}

function fromFile(value: unknown, kind: Kind, where: string): number | string | boolean {
  const ok =
    (kind === "flag" && typeof value === "boolean") ||
    (kind === "int" && Number.isInteger(value)) ||
    (kind === "float" && typeof value === "number" && Number.isFinite(value)) ||
    (kind === "string" && (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))));
  if (!ok) {
    const want = { flag: "true or false", int: "a whole number", float: "a number", string: "a string" }[kind];
    throw new TaskError(`${where} must be ${want}, got ${JSON.stringify(value)}`);
  }
  return kind === "string" ? String(value) : (value as number | boolean);
}

/** The config file's options, checked: an unknown option, a key, or a wrong type is refused in one line. */
export function readKeeperConfig(file: string): Partial<Record<keyof KeeperArgs, number | string | boolean>> {
  const at = path.resolve(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(at, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "is not valid JSON";
    throw new TaskError(
      `--keeper-config ${file} ${why}: pass a JSON object of keeper:run options, e.g. {"minProfit": "2"}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TaskError(
      `--keeper-config ${file} must hold a JSON object of keeper:run options, e.g. {"minProfit": "2"}`,
    );
  }
  const out: Partial<Record<keyof KeeperArgs, number | string | boolean>> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (name === "key" || /private.?key/i.test(name)) {
      throw new TaskError(
        `--keeper-config ${file}: a key does not go in a config file; set KEEPER_PRIVATE_KEY or use --keystore`,
      );
    }
    const kind = OPTION_KINDS[name as keyof KeeperArgs] as Kind | "secret" | undefined;
    if (kind === undefined || kind === "secret") {
      throw new TaskError(
        `--keeper-config ${file}: unknown option "${name}"; the options are keeper:run's flags in camelCase: ${OPTIONS.join(", ")}`,
      );
    }
    out[name as keyof KeeperArgs] = fromFile(value, kind, `--keeper-config ${file}: "${name}"`);
  }
  return out;
}

/**
 * Each option from, in order: its flag, its `KEEPER_*` environment variable, the `--keeper-config` file, its default. A flag
 * (`--once`, `--no-cancel`, `--log-debug`) given on the command line is on whatever the other sources say.
 */
export function resolveKeeperArgs(args: KeeperArgs, env: NodeJS.ProcessEnv = process.env): ResolvedKeeperArgs {
  const configFile = args.keeperConfig ?? (env.KEEPER_CONFIG !== "" ? env.KEEPER_CONFIG : undefined);
  const file = configFile !== undefined ? readKeeperConfig(configFile) : {};
  const out: Record<string, unknown> = { ...args };
  for (const name of OPTIONS) {
    const kind = OPTION_KINDS[name] as Kind;
    const given = args[name];
    if (kind === "flag" ? given === true : given !== undefined) continue;
    const variable = env[envName(name)];
    if (variable !== undefined && variable !== "") {
      out[name] = fromEnv(variable, kind, envName(name));
    } else if (file[name] !== undefined) {
      out[name] = file[name];
    } else {
      out[name] = (KEEPER_DEFAULTS as Record<string, unknown>)[name] ?? (kind === "flag" ? false : undefined);
    }
  }
  return out as ResolvedKeeperArgs;
}
