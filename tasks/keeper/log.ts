/**
 * The keeper's structured log: one line per event, either one JSON object (`ts`, `level`, `event`, then `vault` and
 * the event's fields) or the same record for a terminal. Bigints are written as decimal strings.
 */

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogValue = string | number | bigint | boolean | null | undefined | readonly LogValue[];
export type LogFields = Record<string, LogValue>;

export interface LogRecord {
  ts: string;
  level: LogLevel;
  event: string;
  vault?: string;
  [field: string]: LogValue;
}

export interface KeeperLogOptions {
  format?: LogFormat;
  /** Also write `debug` records (route candidates, per-vault decisions). */
  verbose?: boolean;
  /** Where each line goes; stdout by default. */
  sink?: (line: string) => void;
  /** The wall clock, for `ts`. */
  clock?: () => Date;
}

function plain(value: LogValue): string | number | boolean | null | (string | number | boolean | null)[] {
  if (value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value))
    return (value as readonly LogValue[]).map((v) => plain(v) as string | number | boolean | null);
  return value as string | number | boolean | null;
}

function prettyValue(value: LogValue): string {
  const v = plain(value);
  if (Array.isArray(v)) return `[${v.join(",")}]`;
  if (typeof v === "string" && /[\s"=]/.test(v)) return JSON.stringify(v);
  return String(v);
}

export class KeeperLog {
  readonly format: LogFormat;
  private readonly verbose: boolean;
  private readonly sink: (line: string) => void;
  private readonly clock: () => Date;

  constructor(options: KeeperLogOptions = {}) {
    this.format = options.format ?? "json";
    this.verbose = options.verbose ?? false;
    this.sink = options.sink ?? ((line) => console.log(line));
    this.clock = options.clock ?? (() => new Date());
  }

  debug(event: string, fields: LogFields = {}): void {
    if (this.verbose) this.write("debug", event, fields);
  }

  info(event: string, fields: LogFields = {}): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields: LogFields = {}): void {
    this.write("warn", event, fields);
  }

  error(event: string, fields: LogFields = {}): void {
    this.write("error", event, fields);
  }

  private write(level: LogLevel, event: string, fields: LogFields): void {
    const ts = this.clock().toISOString();
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (this.format === "json") {
      const record: Record<string, unknown> = { ts, level, event };
      for (const [k, v] of entries) record[k] = plain(v);
      this.sink(JSON.stringify(record));
      return;
    }
    const rest = entries.map(([k, v]) => `${k}=${prettyValue(v)}`).join(" ");
    this.sink(`${ts} ${level.toUpperCase().padEnd(5)} ${event.padEnd(18)}${rest === "" ? "" : ` ${rest}`}`);
  }
}

/** Parses the log lines a KeeperLog wrote in JSON format (for tests and tools). */
export function parseLogLines(lines: readonly string[]): LogRecord[] {
  return lines.map((line) => JSON.parse(line) as LogRecord);
}
