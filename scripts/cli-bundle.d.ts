import type { Metafile } from 'esbuild';

/** Builds `<root>/dist/cli` from `<root>`'s sources: the number of inputs in its manifest, esbuild's metafile. */
declare function bundleCli(root?: string): Promise<{ inputs: number; metafile: Metafile }>;
declare const MANIFEST: string;

export { bundleCli, MANIFEST };
