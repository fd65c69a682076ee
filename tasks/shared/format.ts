/** Formatting for humans: health factors, USD values in Aave base units, token amounts. */
import { formatUnits, MaxUint256 } from "ethers";

const WAD_DECIMALS = 18;
/** Aave's oracle base currency: USD with 8 decimals. */
const BASE_DECIMALS = 8;

/** Truncates a fixed-point value to `places` decimals and groups the integer part: 1234.5678. */
export function fixed(value: bigint, decimals: number, places: number, group = false): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const integer = abs / scale;
  const fraction = abs % scale;
  const digits = fraction.toString().padStart(decimals, "0").slice(0, places).padEnd(places, "0");
  const intText = group ? integer.toLocaleString("en-US") : integer.toString();
  return `${negative ? "-" : ""}${intText}${places > 0 ? `.${digits}` : ""}`;
}

/** A WAD health factor with 4 decimals; Aave reports `type(uint256).max` for a position without debt. */
export function hf(value: bigint): string {
  if (value === MaxUint256) return "∞ (no debt)";
  return fixed(value, WAD_DECIMALS, 4);
}

/** A value in Aave base units (USD, 8 decimals) as dollars and cents. */
export function usd(value: bigint): string {
  return `$${fixed(value, BASE_DECIMALS, 2, true)}`;
}

/** A token amount in whole units, without trailing zeros, and its symbol. */
export function token(amount: bigint, decimals: number, symbol: string): string {
  if (amount === MaxUint256) return `all ${symbol}`;
  const text = formatUnits(amount, decimals);
  return `${text.endsWith(".0") ? text.slice(0, -2) : text} ${symbol}`;
}

export function bps(value: bigint | number): string {
  return `${value.toString()} bps`;
}

export function gas(value: bigint): string {
  return value.toLocaleString("en-US");
}

/** Seconds as "1h 02m 03s" / "42s". */
export function duration(seconds: bigint): string {
  const s = seconds < 0n ? -seconds : seconds;
  const h = s / 3600n;
  const m = (s % 3600n) / 60n;
  const r = s % 60n;
  if (h > 0n) return `${h}h ${m.toString().padStart(2, "0")}m ${r.toString().padStart(2, "0")}s`;
  if (m > 0n) return `${m}m ${r.toString().padStart(2, "0")}s`;
  return `${r}s`;
}

export function timestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
