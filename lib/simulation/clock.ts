/**
 * A deterministic block clock for the in-process network. Hardhat stamps a new block with the wall clock (plus the
 * offset the last time jump set) whenever that is later than the previous block + 1 s, so on a slow or busy machine a
 * run's timestamps, and with them interest, keeper rewards and TWAPs, would differ from one run to the next. While the
 * clock is installed, every transaction's block is stamped exactly one second after the previous block; explicit time
 * moves (`evm_setNextBlockTimestamp`, `evm_mine`, `hardhat_mine`) pass through untouched. `eth_call` already runs at
 * the latest block's timestamp, so reads need nothing.
 *
 * Under gas stress the clock also holds the base fee of the moment (`setBaseFee`, from `gas.ts`'s path): before every
 * block it lets the node mine (a transaction, `evm_mine`, `hardhat_mine`) it sets the next block's base fee with
 * `hardhat_setNextBlockBaseFeePerGas`, so each transaction pays that `block.basefee` and one whose max fee is below it
 * is refused. (Of a `hardhat_mine` run only the first block gets it; the empty ones after hold no transaction.)
 */
import { toQuantity } from "ethers";
import type { EthereumProvider, RequestArguments } from "hardhat/types";

const SENDS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);
/** Calls after which a timestamp the caller set is used up or gone. */
const CONSUME_PIN = new Set(["evm_mine", "hardhat_mine", "evm_revert", "hardhat_reset"]);
const MINES = new Set(["evm_mine", "hardhat_mine"]);
/** Calls that may change contract storage besides transactions. */
const WRITES = new Set([
  "evm_revert",
  "hardhat_reset",
  "hardhat_setStorageAt",
  "hardhat_setCode",
  "hardhat_setBalance",
]);

export interface BlockClock {
  /** The latest block's timestamp. */
  latest(): Promise<number>;
  /**
   * How many calls that may change contract storage (transactions, reverts, `hardhat_set*`) went to the node: a
   * read of time-independent state (a pool's price and liquidity) holds while this has not moved.
   */
  writes(): number;
  /** Puts the provider back as it was. */
  restore(): void;
  /** The base fee every block now gets (wei), or undefined: the node's own EIP-1559 base fee. */
  baseFee(): bigint | undefined;
  setBaseFee(wei: bigint | undefined): void;
}

export function installBlockClock(provider: EthereumProvider): BlockClock {
  const original = { request: provider.request, send: provider.send };
  const forward = (args: RequestArguments): Promise<unknown> => original.request.call(provider, args);
  /** The latest block's timestamp when known; undefined after anything that may have mined or moved time. */
  let last: number | undefined;
  /** Someone set the next block's timestamp: leave it alone. */
  let pinnedByCaller = false;
  /** The timestamp the caller pinned, if known: an `evm_mine` lands exactly on it. */
  let pinned: number | undefined;
  let baseFee: bigint | undefined;
  let writes = 0;
  const pinBaseFee = async (): Promise<void> => {
    if (baseFee !== undefined) {
      await forward({ method: "hardhat_setNextBlockBaseFeePerGas", params: [toQuantity(baseFee)] });
    }
  };

  const latest = async (): Promise<number> => {
    if (last === undefined) {
      const block = (await forward({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
        timestamp: string;
      };
      last = Number(BigInt(block.timestamp));
    }
    return last;
  };

  const request = async (args: RequestArguments): Promise<unknown> => {
    if (SENDS.has(args.method) || WRITES.has(args.method)) writes++;
    if (SENDS.has(args.method)) {
      await pinBaseFee();
      if (pinnedByCaller) {
        pinnedByCaller = false;
        pinned = undefined;
        last = undefined;
        return forward(args);
      }
      const next = (await latest()) + 1;
      await forward({ method: "evm_setNextBlockTimestamp", params: [toQuantity(next)] });
      try {
        const result = await forward(args);
        last = next;
        return result;
      } catch (e) {
        // Automine mines a reverting transaction before it throws; read the clock again rather than guess.
        last = undefined;
        throw e;
      }
    }
    if (args.method.startsWith("evm_") || args.method.startsWith("hardhat_")) {
      if (MINES.has(args.method)) await pinBaseFee();
      // A plain `evm_mine` after a pin lands on the pinned time: known without asking the node.
      const params: unknown[] = Array.isArray(args.params) ? args.params : [];
      const landsAt = args.method === "evm_mine" && params.length === 0 ? pinned : undefined;
      if (args.method === "evm_setNextBlockTimestamp") {
        pinnedByCaller = true;
        const [time] = params;
        pinned = typeof time === "string" || typeof time === "number" ? Number(BigInt(time)) : undefined;
      } else if (CONSUME_PIN.has(args.method)) {
        pinnedByCaller = false;
        pinned = undefined;
      }
      last = undefined;
      const result = await forward(args);
      if (landsAt !== undefined) last = landsAt;
      return result;
    }
    return forward(args);
  };

  provider.request = request;
  provider.send = (method: string, params?: unknown[]) => request({ method, params });
  return {
    latest,
    writes: () => writes,
    baseFee: () => baseFee,
    setBaseFee: (wei) => {
      baseFee = wei;
    },
    restore: () => {
      provider.request = original.request;
      provider.send = original.send;
    },
  };
}
