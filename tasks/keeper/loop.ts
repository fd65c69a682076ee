/** The keeper's loop: passes every interval until aborted, surviving passes that throw. */
import type { KeeperBot } from "./bot";
import type { PassSummary } from "./types";
import { describeFailure } from "./tx";

/** Told of every pass (the metrics); it must not throw: the loop would count the pass as failed. */
export interface PassObserver {
  passed(summary: PassSummary, seconds: number): void | Promise<void>;
  failed(error: unknown, seconds: number): void;
}

export interface LoopOptions {
  /** Milliseconds between the end of a pass and the start of the next. */
  intervalMs: number;
  signal: AbortSignal;
  observer?: PassObserver;
}

export interface LoopResult {
  passes: number;
  failedPasses: number;
  kicked: number;
  cancelled: number;
  executed: number;
  lostRaces: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Runs passes until the signal aborts; a pass that throws (the node is down, say) is logged and the loop goes on. */
export async function runLoop(bot: KeeperBot, options: LoopOptions): Promise<LoopResult> {
  const result: LoopResult = { passes: 0, failedPasses: 0, kicked: 0, cancelled: 0, executed: 0, lostRaces: 0 };
  while (!options.signal.aborted) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const s = await bot.pass();
      result.passes++;
      result.kicked += s.kicked.length;
      result.cancelled += s.cancelled.length;
      result.executed += s.executed.length;
      result.lostRaces += s.lostRaces.length;
      await options.observer?.passed(s, seconds());
    } catch (e) {
      result.failedPasses++;
      options.observer?.failed(e, seconds());
      bot.log.error("pass-failed", { ...describeFailure(e), retryInMs: options.intervalMs });
    }
    await sleep(options.intervalMs, options.signal);
  }
  bot.log.info("stopped", { ...result });
  return result;
}
