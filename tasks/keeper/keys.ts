/**
 * The keeper's key: `KEEPER_PRIVATE_KEY` from the environment, an encrypted JSON keystore (`--keystore`, its password
 * from `KEEPER_KEYSTORE_PASSWORD` or a prompt that does not echo), or a Hardhat account (`--account`). A key on the
 * command line (`--key`) is refused: it shows in `ps` and in the shell's history. Off the local networks the
 * deployer's account 0 is never the default.
 */
import fs from "node:fs";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { HDNodeWallet, isHexString, Wallet, type BaseWallet, type Provider, type Signer } from "ethers";

import { TaskError } from "../shared/errors";

export const KEY_ENV = "KEEPER_PRIVATE_KEY";
export const PASSWORD_ENV = "KEEPER_KEYSTORE_PASSWORD";
/** Networks where `--account` may default to 0: a local node's accounts hold no real funds. */
export const LOCAL_NETWORKS: readonly string[] = ["hardhat", "localhost"];

export const KEY_FLAG_REFUSED =
  `--key is refused: a key on the command line shows in \`ps\` and the shell history; ` +
  `set ${KEY_ENV} in the environment or pass --keystore <file.json>`;

/** Where the keeper's key comes from. */
export type KeySource =
  { kind: "env"; key: string } | { kind: "keystore"; file: string } | { kind: "account"; index: number };

export interface KeyFlags {
  key?: string;
  keystore?: string;
  account?: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Picks the key source from the flags, the environment and the network; refuses `--key` and ambiguous choices. */
export function keeperKeySource(flags: KeyFlags, network: string, env: Env): KeySource {
  if (flags.key !== undefined) throw new TaskError(KEY_FLAG_REFUSED);
  const key = envValue(env, KEY_ENV);
  const given = [
    key !== undefined ? KEY_ENV : undefined,
    flags.keystore !== undefined ? "--keystore" : undefined,
    flags.account !== undefined ? "--account" : undefined,
  ].filter((g): g is string => g !== undefined);
  if (given.length > 1) {
    throw new TaskError(`The keeper's key comes from one source: ${given.join(" and ")} are both given; drop one`);
  }
  if (key !== undefined) return { kind: "env", key };
  if (flags.keystore !== undefined) return { kind: "keystore", file: flags.keystore };
  if (flags.account !== undefined) return { kind: "account", index: flags.account };
  if (!LOCAL_NETWORKS.includes(network)) {
    throw new TaskError(
      `On network ${network} the keeper needs its own key (the deployer's account 0 is never the default): ` +
        `set ${KEY_ENV}, pass --keystore <file.json>, or pick an account with --account <index>`,
    );
  }
  return { kind: "account", index: 0 };
}

export interface KeyOptions {
  env: Env;
  /** Whether a password may be asked for: stdin is a terminal. */
  interactive: boolean;
  /** Asks for the keystore's password without echoing it. */
  prompt: (question: string) => Promise<string>;
}

/** A private key given as hex, 0x optional. */
export function keyWallet(key: string, provider: Provider, what: string): Wallet {
  const hex = key.startsWith("0x") ? key : `0x${key}`;
  if (!isHexString(hex, 32))
    throw new TaskError(`${what} must be a 32-byte hex private key (64 hex digits, 0x optional)`);
  return new Wallet(hex, provider);
}

/** Decrypts a JSON keystore (ethers v6 `Wallet.fromEncryptedJson`). */
export async function keystoreSigner(file: string, provider: Provider, options: KeyOptions): Promise<Signer> {
  const resolved = path.resolve(file);
  let json: string;
  try {
    json = fs.readFileSync(resolved, "utf8");
  } catch {
    throw new TaskError(`--keystore ${resolved} cannot be read: check the path`);
  }
  let password = options.env[PASSWORD_ENV];
  if (password === undefined) {
    if (!options.interactive) {
      throw new TaskError(`--keystore needs its password: set ${PASSWORD_ENV} (stdin is not a terminal to ask on)`);
    }
    password = await options.prompt(`Password of ${resolved}: `);
  }
  try {
    return (await Wallet.fromEncryptedJson(json, password)).connect(provider);
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    if (/incorrect password/i.test(message)) {
      throw new TaskError(`Wrong password for the keystore ${resolved}: check ${PASSWORD_ENV} or what you typed`);
    }
    throw new TaskError(`--keystore ${resolved} is not an encrypted JSON keystore (${message})`);
  }
}

/** A Hardhat account's key from the network's config (a mnemonic or a list of keys); none for a node's own accounts. */
export function accountWallet(
  hre: HardhatRuntimeEnvironment,
  index: number,
  provider: Provider,
): BaseWallet | undefined {
  const accounts = hre.network.config.accounts;
  if (accounts === "remote") return undefined;
  if (Array.isArray(accounts)) {
    const entry: string | { privateKey: string } | undefined = accounts[index];
    if (entry === undefined) return undefined;
    return new Wallet(typeof entry === "string" ? entry : entry.privateKey, provider);
  }
  const { mnemonic, passphrase, path: hdPath, initialIndex } = accounts;
  return HDNodeWallet.fromPhrase(mnemonic, passphrase, `${hdPath}/${initialIndex + index}`).connect(provider);
}

/**
 * The keeper's signer from its key source. `local`: it must sign transactions itself (`--private-rpc` sends them
 * raw), so a Hardhat account becomes a wallet of its key from the network's config.
 */
export async function keeperSigner(
  hre: HardhatRuntimeEnvironment,
  flags: KeyFlags,
  options: KeyOptions,
  local = false,
): Promise<Signer> {
  const source = keeperKeySource(flags, hre.network.name, options.env);
  const provider = hre.ethers.provider;
  switch (source.kind) {
    case "env":
      return keyWallet(source.key, provider, KEY_ENV);
    case "keystore":
      return keystoreSigner(source.file, provider, options);
    case "account": {
      const signers = await hre.ethers.getSigners();
      if (!Number.isInteger(source.index) || source.index < 0 || source.index >= signers.length) {
        throw new TaskError(
          `--account ${source.index}: network ${hre.network.name} has ${signers.length} accounts (0-${signers.length - 1})`,
        );
      }
      const account = signers[source.index];
      if (!local) return account;
      const wallet = accountWallet(hre, source.index, provider);
      if (wallet === undefined || wallet.address !== account.address) {
        throw new TaskError(
          `--private-rpc signs transactions locally, but the key of --account ${source.index} is not in network ` +
            `${hre.network.name}'s config (the node holds it): set ${KEY_ENV} or pass --keystore <file.json>`,
        );
      }
      return wallet;
    }
  }
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new TaskError("Cancelled at the keystore password prompt"));
          return;
        }
        value = ch === "\u007f" || ch === "\b" ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** The options the task runs with: the process's environment and terminal. */
export function processKeyOptions(): KeyOptions {
  return { env: process.env, interactive: process.stdin.isTTY === true, prompt: promptHidden };
}
