/**
 * Value and escaping rules of the Prometheus text exposition format (version 0.0.4), shared by `mme stats --prom`
 * and `mme local`'s `GET /metrics`. No imports: the local server loads this without the rest of the metrics code.
 */

/** A sample value; Prometheus writes the special values as NaN, +Inf and -Inf. */
export const promNumber = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

/** A label value: backslash, double quote and line feed are escaped. */
export const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A # HELP text: backslash and line feed are escaped. */
export const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
