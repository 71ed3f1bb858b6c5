/**
 * Plug-ins of `pmta-bounce sandbox`: each adds its own flags and, when they are given, a poller
 * started and stopped with the sandbox (e.g. `--ses-inbox DIR` feeding .eml files to the unsub
 * handler). Add an entry here; sandbox.ts needs no change.
 */
import type { SandboxContext, SandboxPoller } from './sandbox-runtime.ts';

type FlagValue = string | boolean | undefined;

interface SandboxExtension {
  /** parseArgs option definitions of this extension's flags. */
  flags: Record<string, { type: 'string' | 'boolean' }>;
  /** Help lines for the flags. */
  help: string;
  /** A poller when this extension's flags ask for one; undefined otherwise. */
  create(
    values: Readonly<Record<string, FlagValue>>,
    context: SandboxContext,
    log: (line: string) => void,
  ): SandboxPoller | undefined;
}

const SANDBOX_EXTENSIONS: SandboxExtension[] = [];

export type { SandboxExtension };
export { SANDBOX_EXTENSIONS };
