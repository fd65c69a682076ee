/**
 * The `oracle` stress: Chainlink's round rule for the WETH feed. Chainlink's ETH/USD feed on Ethereum publishes a new
 * round when the off-chain market price deviates from the last round by at least its deviation threshold (0.5%), or
 * when the last round is a heartbeat old (3,600 s), whichever comes first (data.chain.link, ETH / USD, Ethereum
 * mainnet: "Deviation threshold 0.5%", "Heartbeat 3600s"). A round lands on chain in a block after the market moved.
 * Between rounds the feed, and with it Aave and the price guard, see the last round's price while the pools trade at
 * the market's.
 *
 * `OracleRounds` is the rule alone, with no chain: the `StressedMarket` (index.ts) publishes what it decides.
 */

/** Chainlink ETH/USD on Ethereum: 0.5% deviation threshold, in bps. */
export const ETH_USD_DEVIATION_BPS = 50n;
/** Chainlink ETH/USD on Ethereum: one round at least every hour. */
export const ETH_USD_HEARTBEAT_SECONDS = 3_600;

export interface Round {
  /** Answer, 8 decimals. */
  price: bigint;
  /** Chain time of the block that published it. */
  at: number;
}

export class OracleRounds {
  private last: Round = { price: 0n, at: 0 };
  /** Rounds published since `start`. */
  rounds = 0;
  /** Of which forced by the heartbeat (the price had not moved enough). */
  heartbeatRounds = 0;
  /** Largest |oracle / market - 1| seen, bps (hundredths, exact to 0.01 bp). */
  maxGapBps = 0;

  constructor(
    readonly deviationBps: bigint = ETH_USD_DEVIATION_BPS,
    readonly heartbeat: number = ETH_USD_HEARTBEAT_SECONDS,
  ) {
    if (deviationBps <= 0n || heartbeat <= 0) throw new RangeError("OracleRounds: threshold and heartbeat must be > 0");
  }

  /** Starts from the round the feed holds; counters back to zero. */
  start(round: Round): void {
    this.last = { ...round };
    this.rounds = 0;
    this.heartbeatRounds = 0;
    this.maxGapBps = 0;
  }

  get latest(): Round {
    return this.last;
  }

  /** Whether `market` is at least the threshold away from the last round: |m - p| / p >= threshold, exactly. */
  deviates(market: bigint): boolean {
    const diff = market > this.last.price ? market - this.last.price : this.last.price - market;
    return diff * 10_000n >= this.deviationBps * this.last.price;
  }

  /** The chain time at which the heartbeat forces the next round. */
  heartbeatDue(): number {
    return this.last.at + this.heartbeat;
  }

  /** Whether a round is due at chain time `now` for market price `market`, and why. */
  due(market: bigint, now: number): "deviation" | "heartbeat" | undefined {
    if (this.deviates(market)) return "deviation";
    if (now >= this.heartbeatDue()) return "heartbeat";
    return undefined;
  }

  record(round: Round, reason: "deviation" | "heartbeat"): void {
    this.last = { ...round };
    this.rounds++;
    if (reason === "heartbeat") this.heartbeatRounds++;
  }

  /** Notes the gap between the feed and the market at a moment. */
  observe(market: bigint): void {
    if (market <= 0n) return;
    const diff = market > this.last.price ? market - this.last.price : this.last.price - market;
    const gap = Number((diff * 1_000_000n) / market) / 100;
    if (gap > this.maxGapBps) this.maxGapBps = gap;
  }
}
