/**
 * Route choice for a rebalance swap: every single-hop pool of the pair at Uniswap V3's fee tiers, and every two-hop
 * path through an intermediate token (WETH, USDC by default), each quoted with QuoterV2 for the amount the vault will
 * sell; the best quoted output wins. Pools are looked up with the Uniswap factory's `getPool` and remembered. Only
 * pools governance allows (`PriceGuard.routeAllowed`) are proposed: the vault refuses a path through any other.
 */
import { getAddress, ZeroAddress } from "ethers";

import type { IPriceGuard, IUniswapV3Factory, QuoterV2 } from "../../typechain-types";
import { encodePath } from "../protocol/path";

/** Uniswap V3's fee tiers, in hundredths of a bip; `SwapPath` accepts exactly these. */
export const FEE_TIERS: readonly number[] = [100, 500, 3_000, 10_000];

export interface RouteCandidate {
  tokens: string[];
  fees: number[];
  path: string;
}

export interface Quote extends RouteCandidate {
  amountOut: bigint;
  /** QuoterV2's estimate of the swap's gas. */
  gasEstimate: bigint;
}

export interface RouteChoice {
  /** The candidate with the largest quoted output; undefined when none could be quoted. */
  best?: Quote;
  /** Every successful quote, in candidate order. */
  quotes: Quote[];
  /** Candidates whose quote reverted (no liquidity, say), with the first line of the error. */
  failed: (RouteCandidate & { error: string })[];
}

/**
 * Where a keeper gets its route: the bot's `Router` quotes every pool with QuoterV2; the simulation gives the same
 * `Router` one pool (the WETH/USDC 0.05% pool, no intermediates) through this interface.
 */
export interface RouteSource {
  route(tokenIn: string, tokenOut: string, amountIn: bigint): Promise<RouteChoice>;
}

/** Whether a rebalance may swap through the pool of a pair at a fee tier. */
export type RouteFilter = (tokenA: string, tokenB: string, fee: number) => Promise<boolean>;

/**
 * The price guard's allow-list as a `RouteFilter`. Read on every call, not cached: governance may disallow a pool while
 * a bot runs.
 */
export function guardRoutes(priceGuard: Pick<IPriceGuard, "routeAllowed">): RouteFilter {
  return (tokenA, tokenB, fee) => priceGuard.routeAllowed(tokenA, tokenB, fee);
}

export class Router implements RouteSource {
  private readonly pools = new Map<string, string>();
  private readonly intermediates: string[];

  constructor(
    private readonly quoter: QuoterV2,
    private readonly uniswapFactory: IUniswapV3Factory,
    private readonly allowed: RouteFilter,
    intermediates: readonly string[],
    private readonly feeTiers: readonly number[] = FEE_TIERS,
  ) {
    this.intermediates = [...new Set(intermediates.map((t) => getAddress(t)))];
  }

  /** The pool of a pair at a fee tier, or ZeroAddress; cached for the router's lifetime. */
  async pool(tokenA: string, tokenB: string, fee: number): Promise<string> {
    const [a, b] = BigInt(tokenA) < BigInt(tokenB) ? [tokenA, tokenB] : [tokenB, tokenA];
    const key = `${a}|${b}|${fee}`.toLowerCase();
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = await this.uniswapFactory.getPool(a, b, fee);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async tiers(tokenA: string, tokenB: string): Promise<number[]> {
    const found = await Promise.all(
      this.feeTiers.map(async (fee) => [fee, await this.pool(tokenA, tokenB, fee)] as const),
    );
    const existing = found.filter(([, pool]) => pool !== ZeroAddress).map(([fee]) => fee);
    const allowed = await Promise.all(existing.map((fee) => this.allowed(tokenA, tokenB, fee)));
    return existing.filter((_, i) => allowed[i]);
  }

  /** Every path from `tokenIn` to `tokenOut` over existing, allowed pools: single hops first, then two hops. */
  async candidates(tokenIn: string, tokenOut: string): Promise<RouteCandidate[]> {
    const [from, to] = [getAddress(tokenIn), getAddress(tokenOut)];
    const out: RouteCandidate[] = [];
    for (const fee of await this.tiers(from, to)) {
      out.push({ tokens: [from, to], fees: [fee], path: encodePath([from, to], [fee]) });
    }
    for (const via of this.intermediates) {
      if (via === from || via === to) continue;
      const [first, second] = await Promise.all([this.tiers(from, via), this.tiers(via, to)]);
      for (const f1 of first) {
        for (const f2 of second) {
          const tokens = [from, via, to];
          out.push({ tokens, fees: [f1, f2], path: encodePath(tokens, [f1, f2]) });
        }
      }
    }
    return out;
  }

  /** Quotes every candidate for `amountIn` and picks the largest output (the earlier candidate on a tie). */
  async route(tokenIn: string, tokenOut: string, amountIn: bigint): Promise<RouteChoice> {
    const candidates = await this.candidates(tokenIn, tokenOut);
    const results = await Promise.all(
      candidates.map(async (c) => {
        try {
          const q = await this.quoter.quoteExactInput.staticCall(c.path, amountIn);
          return { ...c, amountOut: q.amountOut, gasEstimate: q.gasEstimate };
        } catch (e) {
          return { ...c, error: e instanceof Error ? e.message.split("\n")[0] : String(e) };
        }
      }),
    );
    const choice: RouteChoice = { quotes: [], failed: [] };
    for (const r of results) {
      if ("error" in r) {
        choice.failed.push(r);
        continue;
      }
      if (r.amountOut === 0n) continue;
      choice.quotes.push(r);
      if (choice.best === undefined || r.amountOut > choice.best.amountOut) choice.best = r;
    }
    return choice;
  }
}

/** A path for the log: `WETH -500-> USDC`. */
export function describeRoute(route: RouteCandidate, symbol: (token: string) => string): string {
  let text = symbol(route.tokens[0]);
  route.fees.forEach((fee, i) => {
    text += ` -${fee}-> ${symbol(route.tokens[i + 1])}`;
  });
  return text;
}
