/**
 * A progress bar for long tasks (label, bar, value/total, ETA) over cli-progress. It draws only on a terminal: when
 * the stream is not a TTY (CI logs, files, pipes) or `enabled` is false (tests), every call does nothing.
 */
import { Presets, SingleBar } from "cli-progress";

export interface Progress {
  /** Adds `delta` (default 1) to the value. */
  increment(delta?: number): void;
  update(value: number): void;
  /** Draws the final state and releases the terminal; call it once the work is done, also on failure. */
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** False silences the bar whatever the stream (default true). */
  enabled?: boolean;
  /** Where to draw (default stderr, so stdout stays clean for results such as JSON). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

const SILENT: Progress = { increment: () => {}, update: () => {}, stop: () => {} };

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, enabled = true, stream = process.stderr } = options;
  if (!enabled || stream.isTTY !== true) return SILENT;
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (delta = 1) => bar.increment(delta),
    update: (value) => bar.update(value),
    stop: () => bar.stop(),
  };
}
