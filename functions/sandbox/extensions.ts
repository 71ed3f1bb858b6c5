/**
 * Plug-ins of `pmta-bounce sandbox`: each adds its own flags and, when they are given, a poller
 * started and stopped with the sandbox (e.g. `--ses-inbox DIR` feeding .eml files to the unsub
 * handler). Add an entry here; sandbox.ts needs no change.
 */
import { fakeProvidersExtension } from './fake-providers.ts';
import { oneClickExtension } from './one-click-extension.ts';
import type { SandboxContext, SandboxPoller } from './runtime.ts';
import { sesInboxExtension } from './ses-inbox-extension.ts';

type FlagValue = string | boolean | undefined;

/** What `prepare` made: the document to run with, and what to stop after the sandbox. */
interface PreparedExtension {
  document: unknown;
  stop(): Promise<void>;
}

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
  /**
   * Optional, before the configuration is validated and anything starts: may rewrite the
   * document (as written, `${NAME}` kept) and set values in `env`. Undefined: nothing to do.
   */
  prepare?(
    values: Readonly<Record<string, FlagValue>>,
    input: {
      document: () => unknown;
      env: Record<string, string | undefined>;
      print: (line: string) => void;
      log: (line: string) => void;
    },
  ): Promise<PreparedExtension | undefined>;
}

const SANDBOX_EXTENSIONS: SandboxExtension[] = [fakeProvidersExtension, sesInboxExtension, oneClickExtension];

export type { PreparedExtension, SandboxExtension };
export { SANDBOX_EXTENSIONS };
