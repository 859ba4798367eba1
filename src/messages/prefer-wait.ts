/** Longest `Prefer: wait=N` the send endpoints honour, seconds; a longer wait is cut to this. */
export const MAX_PREFER_WAIT_SECONDS = 30;

/**
 * Reads the `wait` preference of RFC 7240 from `Prefer` header values, e.g.
 * `wait=10`, `respond-async, wait=5`, `WAIT="3"`. Preference names are
 * case-insensitive, the value may be quoted, parameters after `;` are ignored, and the
 * first `wait` counts (RFC 7240 section 2). A missing, malformed or zero wait is no
 * wait: RFC 7240 lets a server ignore a preference it cannot apply.
 * @param header the header as Node gives it (several `Prefer` headers arrive joined by ", ")
 * @returns seconds to wait, 1..{@link MAX_PREFER_WAIT_SECONDS}, or null for no wait
 */
export function preferredWaitSeconds(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const values = Array.isArray(header) ? header : [header];
  for (const preference of values.flatMap((value) => value.split(','))) {
    const [nameAndValue] = preference.split(';');
    const eq = nameAndValue.indexOf('=');
    const name = (eq < 0 ? nameAndValue : nameAndValue.slice(0, eq)).trim().toLowerCase();
    if (name !== 'wait') continue;
    const raw = eq < 0 ? '' : nameAndValue.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (!/^\d+$/.test(raw)) return null;
    const seconds = Math.min(Number(raw), MAX_PREFER_WAIT_SECONDS);
    return seconds > 0 ? seconds : null;
  }
  return null;
}
