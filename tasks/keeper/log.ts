/**
 * The keeper's structured log, written by pino: one JSON object per line (`level`, `ts`, `event`, then `vault` and the
 * event's fields), or the same record as one line for a terminal (`--log-format pretty`). Bigints are written as
 * decimal strings, since a JSON number loses digits past 2^53.
 */
import pino, { type DestinationStream, type Logger } from "pino";

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogValue = string | number | bigint | boolean | null | undefined | readonly LogValue[];
export type LogFields = Record<string, LogValue>;

type PlainValue = string | number | boolean | null | PlainValue[];

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
  /** Where each line goes, without its newline; stdout by default. */
  sink?: (line: string) => void;
  /** The wall clock, for `ts`. */
  clock?: () => Date;
}

function plain(value: LogValue): PlainValue {
  if (value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return (value as readonly LogValue[]).map(plain);
  return value as string | number | boolean | null;
}

function prettyValue(value: PlainValue): string {
  if (Array.isArray(value)) return `[${value.join(",")}]`;
  if (typeof value === "string" && /[\s"=]/.test(value)) return JSON.stringify(value);
  return String(value);
}

/** A JSON record as one line for a terminal: `ts LEVEL event k=v …`. */
function pretty(json: string): string {
  const { ts, level, event, ...fields } = JSON.parse(json) as Record<string, PlainValue>;
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${prettyValue(v)}`)
    .join(" ");
  return `${String(ts)} ${String(level).toUpperCase().padEnd(5)} ${String(event).padEnd(18)}${rest === "" ? "" : ` ${rest}`}`;
}

/**
 * pino writes each record to this synchronously, as one string ending in a newline: the sink sees every line before
 * the log call returns, so that tests read them deterministically.
 */
function destination(format: LogFormat, sink: (line: string) => void): DestinationStream {
  return {
    write(chunk: string) {
      const line = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
      sink(format === "json" ? line : pretty(line));
    },
  };
}

export class KeeperLog {
  readonly format: LogFormat;
  private readonly logger: Logger;

  constructor(options: KeeperLogOptions = {}) {
    this.format = options.format ?? "json";
    const clock = options.clock ?? (() => new Date());
    // console.log rather than a file descriptor: the task tests capture the console.
    const sink = options.sink ?? ((line: string) => console.log(line));
    this.logger = pino(
      {
        level: options.verbose === true ? "debug" : "info",
        // No pid and hostname: the supervisor that runs the bot knows them; the record keeps its old shape.
        base: undefined,
        timestamp: () => `,"ts":"${clock().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination(this.format, sink),
    );
  }

  debug(event: string, fields: LogFields = {}): void {
    this.write("debug", event, fields);
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
    if (!this.logger.isLevelEnabled(level)) return;
    // `event` in the object rather than as pino's message, so that it comes right after `level` and `ts`.
    const record: Record<string, PlainValue> = { event };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = plain(v);
    this.logger[level](record);
  }
}

/** Parses the log lines a KeeperLog wrote in JSON format (for tests and tools). */
export function parseLogLines(lines: readonly string[]): LogRecord[] {
  return lines.map((line) => JSON.parse(line) as LogRecord);
}
