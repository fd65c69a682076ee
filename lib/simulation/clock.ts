/**
 * A deterministic block clock for the in-process network. Hardhat stamps a new block with the wall clock (plus the
 * offset the last time jump set) whenever that is later than the previous block + 1 s, so on a slow or busy machine a
 * run's timestamps, and with them interest, keeper rewards and TWAPs, would differ from one run to the next. While the
 * clock is installed, every transaction's block is stamped exactly one second after the previous block; explicit time
 * moves (`evm_setNextBlockTimestamp`, `evm_mine`, `hardhat_mine`) pass through untouched. `eth_call` already runs at
 * the latest block's timestamp, so reads need nothing.
 */
import { toQuantity } from "ethers";
import type { EthereumProvider, RequestArguments } from "hardhat/types";

const SENDS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);
/** Calls after which a timestamp the caller set is used up or gone. */
const CONSUME_PIN = new Set(["evm_mine", "hardhat_mine", "evm_revert", "hardhat_reset"]);

export interface BlockClock {
  /** The latest block's timestamp. */
  latest(): Promise<number>;
  /** Puts the provider back as it was. */
  restore(): void;
}

export function installBlockClock(provider: EthereumProvider): BlockClock {
  const original = { request: provider.request, send: provider.send };
  const forward = (args: RequestArguments): Promise<unknown> => original.request.call(provider, args);
  /** The latest block's timestamp when known; undefined after anything that may have mined or moved time. */
  let last: number | undefined;
  /** Someone set the next block's timestamp: leave it alone. */
  let pinnedByCaller = false;

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
    if (SENDS.has(args.method)) {
      if (pinnedByCaller) {
        pinnedByCaller = false;
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
      if (args.method === "evm_setNextBlockTimestamp") pinnedByCaller = true;
      else if (CONSUME_PIN.has(args.method)) pinnedByCaller = false;
      last = undefined;
    }
    return forward(args);
  };

  provider.request = request;
  provider.send = (method: string, params?: unknown[]) => request({ method, params });
  return {
    latest,
    restore: () => {
      provider.request = original.request;
      provider.send = original.send;
    },
  };
}
