// Injected from package.json by scripts/build.mjs, so that `mme --version` and the user agent match the release.
declare const __MME_VERSION__: string | undefined;
export const VERSION: string = typeof __MME_VERSION__ === 'string' ? __MME_VERSION__ : '0.0.0-dev';
