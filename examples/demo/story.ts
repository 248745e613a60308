// How the demo tells its story on a terminal: lines that stay, and on a TTY a status line
// under them (a spinner, a progress bar and the step in flight) that is redrawn in place.

/** Where the story goes: a stream, told whether it is a terminal. */
export interface Out {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Lines, and on a TTY a live status line. */
export class Story {
  private status: (() => string) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private frame = 0;
  readonly tty: boolean;

  constructor(private readonly out: Out) {
    this.tty = out.isTTY === true;
  }

  /** Dims `text` on a terminal. */
  dim(text: string): string {
    return this.tty ? `\x1b[2m${text}\x1b[22m` : text;
  }

  /** Bolds `text` on a terminal. */
  bold(text: string): string {
    return this.tty ? `\x1b[1m${text}\x1b[22m` : text;
  }

  /** Colours `text` (green, red, yellow, cyan) on a terminal. */
  color(name: "green" | "red" | "yellow" | "cyan", text: string): string {
    const code = { green: 32, red: 31, yellow: 33, cyan: 36 }[name];
    return this.tty ? `\x1b[${code}m${text}\x1b[39m` : text;
  }

  /** Prints a line that stays. */
  line(text = ""): void {
    this.clearStatus();
    this.out.write(`${text}\n`);
    this.drawStatus();
  }

  /** Shows `render()` as the status line until `stopStatus` (a TTY only). */
  startStatus(render: () => string): void {
    if (!this.tty) return;
    this.status = render;
    this.timer ??= setInterval(() => {
      this.frame += 1;
      this.clearStatus();
      this.drawStatus();
    }, 80);
  }

  stopStatus(): void {
    this.clearStatus();
    this.status = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A spinner frame. */
  spinner(): string {
    return SPINNER[this.frame % SPINNER.length] ?? "";
  }

  private clearStatus(): void {
    if (this.tty && this.status !== null) this.out.write("\r\x1b[2K");
  }

  private drawStatus(): void {
    if (this.tty && this.status !== null) this.out.write(this.status());
  }
}

/** `[■■■□□]` for `done` of `total`. */
export function bar(done: number, total: number, width = 9): string {
  const filled = total === 0 ? 0 : Math.round((Math.min(done, total) / total) * width);
  return `[${"■".repeat(filled)}${"□".repeat(width - filled)}]`;
}

/** Milliseconds as `0.4 s`. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
