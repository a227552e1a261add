/**
 * Limits an artifact must respect to be served by `mme local` and scored by `mme predict`; `mme package` refuses to
 * build an artifact beyond them, so nothing it builds is refused later.
 */

/** Entries (files and folders, including folders implied by a path) in one artifact. */
export const MAX_ARTIFACT_ENTRIES = 10_000;
