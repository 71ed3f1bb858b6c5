import type { Plugin } from 'esbuild';

/** Bundles shipper/cli.ts into `outfile` (`plugins`: a benchmark's stand-in modules). */
declare function bundleShipper(outfile: string, plugins?: Plugin[]): Promise<void>;

export { bundleShipper };
