/**
 * What a plug-in of `pmta-bounce sandbox` is (the list of them is extensions.ts): its own flags
 * and, when they are given, a poller started and stopped with the sandbox.
 */
import type { SandboxContext, SandboxPoller } from './runtime.ts';

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

export type { PreparedExtension, SandboxExtension };
