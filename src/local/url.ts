/** decodeURIComponent, or the text as it is when its percent-encoding is malformed (e.g. `%E0`): never throws. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
