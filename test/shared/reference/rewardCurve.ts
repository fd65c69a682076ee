/**
 * BigInt reference model of `contracts/libraries/RewardCurve.sol`, written from `IKeeperAuction.CurveKind`'s NatSpec
 * rather than from the library: with s = startBps, m = maxBps, d = duration, t = seconds since the kick,
 *
 * - Linear: s + (m - s)·t/d, and m from t = d on;
 * - Stairstep: Linear at t rounded down to a multiple of `step`;
 * - Exponential: s·2^n·(1 + r/d) for t = n·d + r (0 <= r < d), i.e. doubling every d seconds and linear in between;
 *
 * each capped at m (every division rounds down), then raised by `urgencyBoostBps`·urgency: `v + v·boost·u / (BPS·WAD)`.
 * Unlike the library, the exponential has no fixed cut-off on the number of doublings: the model doubles until s·2^n
 * reaches m (a start of 0, which the auction refuses for Exponential, would loop n times).
 */

import { CurveKind } from "../../../lib/protocol";

export const WAD = 10n ** 18n;
export const BPS = 10_000n;

/** The fields of `IKeeperAuction.Config` the curve reads. */
export interface CurveConfig {
  kind: CurveKind;
  startBps: bigint;
  maxBps: bigint;
  urgencyBoostBps: bigint;
  duration: bigint;
  step: bigint;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The time curve alone, at most `maxBps`. */
export function timeCurve(c: CurveConfig, elapsed: bigint): bigint {
  switch (c.kind) {
    case CurveKind.Linear:
      return linear(c, elapsed);
    case CurveKind.Stairstep:
      return linear(c, elapsed - (elapsed % c.step));
    case CurveKind.Exponential: {
      const doublings = elapsed / c.duration;
      const within = elapsed % c.duration;
      // Once s·2^n alone reaches m the value is m whatever r is; stop doubling there (2^n itself can be huge).
      let doubled = c.startBps;
      for (let n = 0n; n < doublings; n++) {
        doubled *= 2n;
        if (doubled >= c.maxBps) return c.maxBps;
      }
      return min((doubled * (c.duration + within)) / c.duration, c.maxBps);
    }
  }
}

function linear(c: CurveConfig, elapsed: bigint): bigint {
  if (elapsed >= c.duration) return c.maxBps;
  return c.startBps + ((c.maxBps - c.startBps) * elapsed) / c.duration;
}

/** What `KeeperAuction.rewardBpsAt(elapsed, urgency)` returns: the time curve raised by the urgency boost. */
export function rewardBps(c: CurveConfig, elapsed: bigint, urgency: bigint): bigint {
  const timed = timeCurve(c, elapsed);
  return timed + (timed * c.urgencyBoostBps * urgency) / (BPS * WAD);
}
