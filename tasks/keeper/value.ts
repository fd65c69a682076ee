/**
 * Values in the Aave oracle's base currency (USD with 8 decimals on Aave V3 markets): token amounts, rewards and gas.
 * Prices are read once per pass; decimals and symbols once per token.
 */
import { getAddress, type Provider } from "ethers";

import { IERC20Metadata__factory, type IAaveOracle } from "../../typechain-types";
import * as fmt from "../shared/format";

export class Valuer {
  private readonly decimals = new Map<string, number>();
  private readonly symbols = new Map<string, string>();
  private prices = new Map<string, bigint>();
  private baseUnit?: bigint;

  constructor(
    private readonly oracle: IAaveOracle,
    private readonly provider: Provider,
    /** The gas token's wrapped form (WETH) whose oracle price values gas. */
    private readonly wrappedNative: string,
    knownSymbols: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const [token, symbol] of knownSymbols) this.symbols.set(getAddress(token), symbol);
  }

  /** Forgets the prices: called at the start of each pass. */
  newPass(): void {
    this.prices = new Map();
  }

  /** One whole unit of the base currency, e.g. 1e8. */
  async unit(): Promise<bigint> {
    this.baseUnit ??= await this.oracle.BASE_CURRENCY_UNIT();
    return this.baseUnit;
  }

  async baseDecimals(): Promise<number> {
    return (await this.unit()).toString().length - 1;
  }

  async price(token: string): Promise<bigint> {
    const key = getAddress(token);
    let price = this.prices.get(key);
    if (price === undefined) {
      price = await this.oracle.getAssetPrice(key);
      this.prices.set(key, price);
    }
    return price;
  }

  async tokenDecimals(token: string): Promise<number> {
    const key = getAddress(token);
    let d = this.decimals.get(key);
    if (d === undefined) {
      d = Number(await IERC20Metadata__factory.connect(key, this.provider).decimals());
      this.decimals.set(key, d);
    }
    return d;
  }

  /** The book's symbol, else the token's own `symbol()`, else the address. */
  async symbol(token: string): Promise<string> {
    const key = getAddress(token);
    let s = this.symbols.get(key);
    if (s === undefined) {
      try {
        s = await IERC20Metadata__factory.connect(key, this.provider).symbol();
      } catch {
        s = key;
      }
      this.symbols.set(key, s);
    }
    return s;
  }

  /** A symbol already looked up (for synchronous formatting), else the address. */
  knownSymbol(token: string): string {
    return this.symbols.get(getAddress(token)) ?? getAddress(token);
  }

  /** The oracle value of `amount` of `token`, base units. */
  async value(token: string, amount: bigint): Promise<bigint> {
    const [price, decimals] = await Promise.all([this.price(token), this.tokenDecimals(token)]);
    return (amount * price) / 10n ** BigInt(decimals);
  }

  /** The oracle value of `gas` at `gasPrice` wei, base units: ETH at the wrapped native token's price. */
  async gasValue(gas: bigint, gasPrice: bigint): Promise<bigint> {
    return (gas * gasPrice * (await this.price(this.wrappedNative))) / 10n ** 18n;
  }

  /** A base value as dollars for the log: "76.12". */
  async usd(valueBase: bigint): Promise<string> {
    return fmt.fixed(valueBase, await this.baseDecimals(), 2);
  }

  /** A token amount for the log, in whole units: "76.123456". */
  async amount(token: string, amount: bigint): Promise<string> {
    const decimals = await this.tokenDecimals(token);
    return fmt.fixed(amount, decimals, Math.min(decimals, 6));
  }
}
