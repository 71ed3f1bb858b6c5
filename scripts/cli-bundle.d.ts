/** Builds `<root>/dist/cli` from `<root>`'s sources; returns the number of inputs in the manifest. */
declare function bundleCli(root?: string): Promise<number>;
declare const MANIFEST: string;

export { bundleCli, MANIFEST };
