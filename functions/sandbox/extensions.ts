/**
 * Plug-ins of `pmta-bounce sandbox`: each adds its own flags and, when they are given, a poller
 * started and stopped with the sandbox (e.g. `--ses-inbox DIR` feeding .eml files to the unsub
 * handler). Add an entry here; sandbox.ts needs no change. What one is: sandbox-extension.ts.
 */
import { fakeProvidersExtension } from './fake-providers.ts';
import { oneClickExtension } from './one-click-extension.ts';
import type { SandboxExtension } from './sandbox-extension.ts';
import { sesInboxExtension } from './ses-inbox-extension.ts';

const SANDBOX_EXTENSIONS: SandboxExtension[] = [fakeProvidersExtension, sesInboxExtension, oneClickExtension];

export { SANDBOX_EXTENSIONS };
