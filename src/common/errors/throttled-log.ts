/**
 * Logs a condition that recurs on every request while it lasts (the database is
 * unreachable: each request answers 503) without a line per request: the first
 * occurrence is logged at once, later ones at most once per `intervalMs`, with the
 * number of occurrences left unlogged since the previous line.
 */
export class ThrottledLog {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  /**
   * @param write writes one log line
   * @param intervalMs least time between two lines
   * @param now clock, ms
   */
  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one occurrence, described by `line`; logs it unless a line was logged less than intervalMs ago. */
  record(line: string): void {
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const since = this.lastLoggedAt === -Infinity ? 0 : Math.round((now - this.lastLoggedAt) / 1000);
    this.write(this.suppressed > 0 ? `${line} (and ${this.suppressed} more in the last ${since} s)` : line);
    this.lastLoggedAt = now;
    this.suppressed = 0;
  }
}
